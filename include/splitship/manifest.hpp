// The manifest: the single commit point of an export, written last. Format: docs/manifest.md.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "splitship/stats.hpp"

namespace splitship {

struct FileEntry {
  std::string path;  // relative to the run folder, e.g. "train/part-00000.parquet"
  std::uint64_t size = 0;
  std::uint64_t num_rows = 0;
  std::string md5;        // hex
  std::string sha256;     // hex
  std::string crc64nvme;  // base64 of the 8 big-endian bytes, as S3 spells it
  std::string etag;       // the store's ETag, where it has one (S3)
};

struct SplitEntry {
  std::string name;
  SplitStats stats;
  std::string checksum;  // stats checksum, "md5:<hex>"
  std::vector<FileEntry> files;
  std::uint64_t num_bytes() const;
};

struct Manifest {
  static constexpr int kVersion = 1;
  std::string run_id;
  std::string created_at;
  std::string tool_name = "splitship";
  std::string tool_version;
  nlohmann::ordered_json source;      // format, inputs, files with size/mtime fingerprints
  nlohmann::ordered_json split_rule;  // kind and its parameters
  nlohmann::ordered_json settings;    // compression, sizes, length source
  std::vector<SplitEntry> splits;     // in rule order

  std::string to_json() const;
  // Throws Error(Input) naming `where` when the text is not a valid manifest.
  static Manifest from_json(const std::string& text, const std::string& where);
};

// One file's entry, as the manifest (and the export's journal) spell it. from_json throws
// nlohmann::json exceptions on missing or mistyped fields.
nlohmann::ordered_json file_entry_to_json(const FileEntry& file);
FileEntry file_entry_from_json(const nlohmann::ordered_json& j);

inline constexpr const char* kManifestName = "manifest.json";

}  // namespace splitship
