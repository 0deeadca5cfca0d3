// `splitship verify DEST/RUN_ID`: a published run checked against its manifest with metadata
// requests only (HEAD: existence, size, ETag; split checksums recomputed from the recorded
// stats). --deep downloads every part and re-hashes it: the one command that reads data back.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "splitship/log.hpp"
#include "splitship/manifest.hpp"
#include "splitship/store.hpp"

namespace splitship {

struct VerifyProblem {
  std::string object;  // the part's path in the run, or "split NAME"
  std::string check;   // "exists", "size", "etag", "md5", "checksum", …
  std::string expected;
  std::string found;
};

struct VerifyReport {
  std::string run_url;
  std::size_t objects = 0;
  std::uint64_t bytes = 0;
  bool deep = false;
  std::vector<VerifyProblem> problems;
  bool ok() const { return problems.empty(); }
};

// The manifest of a published run; throws Error(Input) when it is missing or corrupt.
Manifest read_published_manifest(Store& store, const std::string& run_id);

// Throws Error(Input) when the run has no manifest or the manifest is corrupt.
VerifyReport verify_run(Store& store, const std::string& run_id, bool deep, CancelToken& cancel);

}  // namespace splitship
