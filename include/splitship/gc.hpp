// `splitship gc DEST`: what interrupted and finished exports leave behind, listed, and with
// remove=true removed — stale multipart uploads, journals of published runs, and runs that
// were abandoned unpublished (their part files, uploads and journal); for sharded runs, the
// fragments and shard journals a commit left, and sharded runs never committed.
#pragma once
#include <string>
#include <vector>

#include "splitship/log.hpp"
#include "splitship/store.hpp"

namespace splitship {

struct GcOptions {
  bool remove = false;               // false: only list
  double older_than_seconds = 86400;  // younger uploads and runs may belong to a running export
};

struct GcItem {
  enum class Kind { Upload, PublishedJournal, AbandonedRun } kind;
  std::string url;
  std::string detail;  // e.g. "upload started 2026-11-24T03:34:11Z", "3 objects, 1.2 GiB"
};

std::vector<GcItem> collect_garbage(Store& store, const GcOptions& options, Logger& log);

}  // namespace splitship
