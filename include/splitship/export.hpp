// The export pipeline: inputs → split rule → per-split Parquet parts streamed through the
// hashes into a Store → stats → manifest, written last.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "splitship/log.hpp"
#include "splitship/manifest.hpp"
#include "splitship/s3.hpp"
#include "splitship/store.hpp"
#include "splitship/table.hpp"

namespace splitship {

enum class SplitMode { Hash, Column, PerInput };

struct ExportConfig {
  std::vector<std::string> inputs;
  std::optional<InputFormat> format;

  SplitMode mode = SplitMode::Hash;
  std::vector<WeightedSplit> weights;  // Hash
  std::string split_key;               // Hash
  std::int64_t seed = 0;               // Hash
  std::string split_column;            // Column
  std::vector<std::pair<std::string, std::string>> split_inputs;  // PerInput: name → path

  std::string dest;
  std::string run_id;  // empty: a UTC timestamp plus a random suffix
  std::string compression = "zstd";  // zstd | snappy | none
  std::uint64_t target_file_size = 256ULL << 20;
  // A quarter of DuckDB's default: its ordered Parquet writer holds several row groups per
  // thread, and at 122880 rows of chat data that spilled under a 512 MiB limit (train split:
  // 16.5 s vs 9.7 s at 30720, file size within 0.2%).
  std::uint64_t row_group_size = 30720;
  std::string length_expr;  // DuckDB SQL over the row; empty: messages, then text
  bool overwrite = false;

  DuckDbSettings duckdb;  // memory limit, threads; temp_directory defaults to work_dir
  int parallel_splits = 2;  // splits written at once, each by its own DuckDB connection

  // A sharded export: this process exports slice `shard_index` of `shard_count` (0-based) of
  // the input and publishes a fragment, RUN_ID/_shards/I-of-N.json, never the manifest;
  // `splitship commit` merges the fragments. shard_count 1: an ordinary export.
  int shard_index = 0, shard_count = 1;
  bool sharded() const { return shard_count > 1; }
  std::string work_dir;   // scratch space for DuckDB's staging tables; empty: $TMPDIR or /tmp
  S3Settings s3;          // used when dest is s3://
};

// What a resumed run took over from the interrupted one instead of writing it again.
struct ResumeSummary {
  bool resumed = false;
  std::uint64_t files_kept = 0, bytes_kept = 0;         // finished part files, confirmed by HEAD
  std::uint64_t uploads_continued = 0, bytes_reused = 0;  // parts of uploads in flight (ListParts)
};

struct ExportResult {
  Manifest manifest;
  std::string run_url;
  std::vector<std::string> warnings;
  StoreStats store;  // requests and retries (S3)
  ResumeSummary resume;
  // A shard publishes its fragment instead of the manifest (`manifest` then holds the
  // shard's own stats and files); already_done: the fragment existed, nothing was done.
  std::string fragment_url;
  bool already_done = false;
};

// Where shard I of N publishes its work, and where its journal lives.
std::string shard_fragment_key(const std::string& run_id, int index, int count);
std::string shard_journal_prefix(const std::string& run_id, int index, int count);

// `splitship commit DEST/RUN_ID --shards N`: checks that all N fragments exist and were made
// with the same settings, confirms every listed object by HEAD, merges the stats and
// publishes the manifest atomically, then removes the fragments. Throws Error: Destination
// (a fragment missing, the run already published), Usage (other settings), Integrity (an
// object differs from its fragment).
struct CommitResult {
  Manifest manifest;
  std::string run_url;
  StoreStats store;
};
CommitResult commit_shards(Store& store, const std::string& run_id, int shards, Logger& log);

// Runs one export, or continues an interrupted one with the same run id (its journal in
// RUN_ID/_journal/ says what is done). Throws Error on failure: nothing is published unless
// everything succeeded. Finished part files are kept for a resume (with the journal); when
// none finished, nothing is left behind.
ExportResult run_export(const ExportConfig& config, Logger& log, ProgressListener* progress, CancelToken& cancel);

// "20261124T031500Z-k3j9qa"
std::string make_run_id();
// Refuses ids that would escape the destination or make awkward keys.
void validate_run_id(const std::string& run_id);

std::string tool_version();

// The settings an export records in its journal (paths made absolute), and back. A resume
// refuses to run with other settings: describe_config_change names the first difference.
nlohmann::ordered_json export_config_to_json(const ExportConfig& config);
void export_config_from_json(const nlohmann::ordered_json& j, ExportConfig& config);
std::optional<std::string> describe_config_change(const nlohmann::ordered_json& then, const nlohmann::ordered_json& now);
// For `splitship resume DEST/RUN_ID`: the interrupted run's settings, from its journal.
// Throws Error(Usage) when there is nothing to resume.
ExportConfig read_journaled_config(Store& store, const std::string& run_id, Logger& log);

}  // namespace splitship
