// `splitship cp`: upload local files with the export's engine (multipart, in-stream checksums,
// ETag check, retries). Destinations follow `aws s3 cp`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "splitship/hash.hpp"
#include "splitship/log.hpp"
#include "splitship/s3.hpp"
#include "splitship/store.hpp"

namespace splitship {

struct CopyConfig {
  std::string source;  // a file, or a folder with recursive
  std::string dest;    // s3://BUCKET/KEY, or s3://BUCKET/PREFIX/ (trailing '/': keep the file name)
  bool recursive = false;
  int parallel_files = 4;  // files uploaded at once; their parts share the store's buffers
  S3Settings s3;
};

struct CopiedObject {
  std::string source;
  std::string url;
  ObjectInfo info;  // key, size, ETag confirmed by the server
  ObjectDigests digests;
};

// One source file and where it goes, as `aws s3 cp` would decide.
struct CopyItem {
  std::string path;
  std::string key;  // relative to the bucket
  std::uint64_t size = 0;
};
// Throws Error(Usage/Input) for a missing source, a folder without recursive, and the like.
std::vector<CopyItem> plan_copy(const std::string& source, const std::string& dest_prefix, bool dest_is_folder,
                                bool recursive);

// Uploads every planned file; `progress` (may be null) is updated about five times a second.
// The first failure stops the files still uploading and is rethrown; files already uploaded stay.
std::vector<CopiedObject> run_copy(const CopyConfig& config, Logger& log, CancelToken& cancel,
                                   ProgressListener* progress = nullptr);

}  // namespace splitship
