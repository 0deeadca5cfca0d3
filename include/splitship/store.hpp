// One Storage interface for every destination (a local folder now, S3 next), in the spirit
// of s5cmd: export/ talks only to this. Keys are '/'-separated and relative to the store root.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "splitship/hash.hpp"

namespace splitship {

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // as the store reports it (S3); empty where the store has none (local)
};

// Receives an object's bytes in order. restart() comes before each attempt: a read that is
// retried starts over, so whatever the sink computes (hashes) restarts with it.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void restart() = 0;
  virtual void consume(const char* data, std::size_t size) = 0;
};

// A multipart upload an earlier process left unfinished, to be continued rather than redone.
struct UploadToResume {
  std::string upload_id;
  std::uint64_t part_size = 0;  // the parts were cut at this size; the continuation must be too
};

// Told how an upload advances, so a later process can continue it (the export's journal).
// Called from upload threads; implementations synchronise themselves.
class UploadObserver {
 public:
  virtual ~UploadObserver() = default;
  virtual void upload_started(const std::string& upload_id, std::uint64_t part_size) = 0;
  virtual void part_uploaded(int number, std::uint64_t size, const std::string& md5_hex) = 0;
};

struct WriteOptions {
  // 0: unknown. Lets a store pick its part size up front (S3: ≤ 10,000 parts).
  std::uint64_t expected_size = 0;
  UploadObserver* observer = nullptr;
  // Continue this upload: parts the store already holds with the MD5 of the bytes written now
  // are not sent again; others are (re)sent. Ignored by stores without multipart uploads.
  std::optional<UploadToResume> resume;
};

// Bytes a resumed writer did not send because the store already held them.
struct ResumeStats {
  std::uint64_t parts_reused = 0;
  std::uint64_t bytes_reused = 0;
};

// A streaming write of one object. Bytes become visible under the key only at commit();
// a writer destroyed without commit() leaves nothing behind.
// What commit() made: the object as the store keeps it, and the digests of every byte
// written, computed by the writer as the bytes went by (once, on bytes already in memory).
struct CommittedObject {
  ObjectInfo info;
  ObjectDigests digests;
};

class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual void write(const void* data, std::size_t size) = 0;
  // Writes the first `size` bytes of an open file (`path` names it in messages); `on_read`
  // hears how many bytes were taken each time, for progress. The file descriptor must stay
  // open until commit() or abort() returns: a store may send straight from the file (S3 reads
  // each part twice from the page cache, to hash it and to send it, rather than copying it
  // into a fresh part buffer). Throws Error(Input) when the file has fewer bytes.
  // The default reads the file through write().
  virtual void write_file(int fd, const std::string& path, std::uint64_t size,
                          const std::function<void(std::uint64_t)>& on_read);
  virtual CommittedObject commit() = 0;
  virtual void abort() noexcept = 0;
  virtual ResumeStats resume_stats() const { return {}; }

 protected:
  // Reads `size` bytes of the file from `offset` into `slice`, one slice at a time, and hands
  // each to `visit`. Throws Error(Input) naming `path` when a read fails or the file ends early.
  static void read_file_slices(int fd, const std::string& path, std::uint64_t offset, std::uint64_t size,
                               std::vector<char>& slice, const std::function<void(const char*, std::size_t)>& visit);
};

// A multipart upload the store still holds: started, neither completed nor aborted.
struct PendingUpload {
  std::string key;  // relative to the store root
  std::string upload_id;
  std::string initiated;  // ISO 8601, as the store reports it
};

// Requests a store made so far (zero for stores without requests).
struct StoreStats {
  std::uint64_t requests = 0;
  std::uint64_t retries = 0;
  std::uint64_t bytes_sent = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual StoreStats stats() const { return {}; }
  // "file:///abs/path" or "s3://bucket/prefix": for messages and the manifest.
  virtual std::string url() const = 0;
  virtual std::string url_of(std::string_view key) const = 0;

  virtual std::unique_ptr<ObjectWriter> open_writer(const std::string& key, const WriteOptions& options = {}) = 0;
  virtual std::optional<ObjectInfo> head(const std::string& key) = 0;
  virtual std::vector<ObjectInfo> list(const std::string& prefix) = 0;
  virtual void remove(const std::string& key) = 0;
  // Small whole objects (manifests, journals).
  virtual std::optional<std::string> get_small(const std::string& key) = 0;
  // Streams a whole object into sink (only `verify --deep` reads data back). False if absent.
  virtual bool read(const std::string& key, ByteSink& sink) = 0;
  // The commit point: creates key with data only if it does not exist yet; false if it did.
  virtual bool put_if_absent(const std::string& key, std::string_view data) = 0;
  // Creates or atomically replaces key with data.
  virtual void put_replace(const std::string& key, std::string_view data) = 0;
  // put_replace for a small record of work already done (a journal's finished part): it goes
  // out even after Ctrl-C, so the work is not lost to a resume.
  virtual void put_record(const std::string& key, std::string_view data) { put_replace(key, data); }
  // Unfinished multipart uploads under prefix (none for stores without them), and their abort.
  virtual std::vector<PendingUpload> pending_uploads(const std::string& /*prefix*/) { return {}; }
  virtual void abort_upload(const PendingUpload& /*upload*/) {}
  // Drops what is left under prefix once it holds no object: nothing in a bucket, where
  // folders are only key prefixes; empty folders in a folder store (a writer killed between
  // creating its folder and its file leaves one).
  virtual void drop_empty_prefix(const std::string& /*prefix*/) {}
  // Fails early, with a clear message, when the destination cannot be written.
  virtual void check_writable(const std::string& prefix) = 0;
};

// A destination as the user typed it: a folder path, file://PATH, or s3://BUCKET/PREFIX.
struct StoreLocation {
  enum class Scheme { File, S3 } scheme = Scheme::File;
  std::string root;    // absolute folder for File; bucket for S3
  std::string prefix;  // key prefix inside the bucket (S3), no leading/trailing '/'
};
StoreLocation parse_store_location(std::string_view dest);

// Splits "DEST/RUN_ID" into the destination and the run id (last path segment).
std::pair<std::string, std::string> split_run_url(std::string_view run_url);

class LocalStore final : public Store {
 public:
  explicit LocalStore(std::string root);
  std::string url() const override;
  std::string url_of(std::string_view key) const override;
  std::unique_ptr<ObjectWriter> open_writer(const std::string& key, const WriteOptions& options = {}) override;
  std::optional<ObjectInfo> head(const std::string& key) override;
  std::vector<ObjectInfo> list(const std::string& prefix) override;
  void remove(const std::string& key) override;
  std::optional<std::string> get_small(const std::string& key) override;
  bool read(const std::string& key, ByteSink& sink) override;
  bool put_if_absent(const std::string& key, std::string_view data) override;
  void put_replace(const std::string& key, std::string_view data) override;
  // A write in progress is a hidden temp file beside its target; one left by a killed process
  // is listed here (upload_id: the temp file's key) so gc and resume can remove it.
  std::vector<PendingUpload> pending_uploads(const std::string& prefix) override;
  void abort_upload(const PendingUpload& upload) override;
  void drop_empty_prefix(const std::string& prefix) override;
  void check_writable(const std::string& prefix) override;
  const std::string& root() const { return root_; }

 private:
  std::string path_of(std::string_view key) const;
  // rmdir of dir, then of each parent left empty, up to (not including) the root.
  void remove_empty_folders_up_from(const std::string& dir) const;
  template <typename Visit>
  void walk(const std::string& prefix, Visit&& visit) const;
  std::string root_;
};

struct S3Settings;
class Logger;
struct CancelToken;
// What a store may need besides its location; S3 settings are required for s3:// only.
struct StoreContext {
  const S3Settings* s3 = nullptr;
  Logger* log = nullptr;
  CancelToken* cancel = nullptr;
};
std::unique_ptr<Store> open_store(const StoreLocation& location, const StoreContext& context = {});

}  // namespace splitship
