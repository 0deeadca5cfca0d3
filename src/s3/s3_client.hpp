// S3 operations over HttpClient: addressing, signing, retries with backoff, error mapping.
// Keys here are full object keys inside the bucket.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "s3/http_client.hpp"
#include "splitship/hash.hpp"
#include "splitship/log.hpp"
#include "splitship/s3.hpp"

namespace splitship {

// Checksums of one request body, computed once and reused by every attempt.
struct BodyDigests {
  Md5Digest md5{};
  std::string sha256_hex;    // empty with unsigned payloads
  std::string checksum_b64;  // the x-amz-checksum-* value, empty with ChecksumAlgorithm::None
};

// The same digests computed as a body streams by (a file part is hashed in slices); the MD5
// comes from the caller, who computes it beside the whole object's.
class BodyDigester {
 public:
  explicit BodyDigester(const S3Settings& settings);
  void update(const char* data, std::size_t size);
  BodyDigests finish(const Md5Digest& md5);

 private:
  bool wants_sha256() const;
  bool signed_;
  ChecksumAlgorithm algorithm_;
  Sha256 sha256_;
  Crc64Nvme crc64_;
  Crc32c crc32c_;
};

struct CompletedPart {
  int number = 0;
  std::string etag;      // quoted, as the server returned it
  std::string checksum;  // base64 x-amz-checksum value, when one is sent
};

struct ListedObject {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // unquoted
};

struct ListedPart {
  int number = 0;
  std::uint64_t size = 0;
  std::string etag;  // unquoted
};

struct RequestStats {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> bytes_sent{0};
};

struct S3PutOptions {
  bool if_none_match = false;      // create only: a 412 sets *precondition_failed
  bool through_interrupt = false;  // a record of work done: it goes out even after Ctrl-C
};

class S3Client {
 public:
  S3Client(std::string bucket, S3Settings settings, Logger* log, CancelToken* cancel);

  // known_md5: the body's MD5 when the caller computed it already (the object writer does).
  BodyDigests digest_body(const char* data, std::size_t size, const Md5Digest* known_md5 = nullptr) const;

  // Each returns the ETag as the server sent it (unquoted); throws Error on failure.
  std::string put_object(const std::string& key, const RequestBody& body, const BodyDigests& digests,
                         const S3PutOptions& options = {}, bool* precondition_failed = nullptr);
  std::string create_multipart_upload(const std::string& key);
  std::string upload_part(const std::string& key, const std::string& upload_id, int number, const RequestBody& body,
                          const BodyDigests& digests);
  std::string complete_multipart_upload(const std::string& key, const std::string& upload_id,
                                        const std::vector<CompletedPart>& parts);
  void abort_multipart_upload(const std::string& key, const std::string& upload_id) noexcept;
  std::optional<ListedObject> head_object(const std::string& key);
  std::vector<ListedObject> list_objects(const std::string& prefix, std::size_t max_keys = 0);
  std::vector<PendingUpload> list_multipart_uploads(const std::string& prefix);
  // The parts an upload holds; nullopt when the upload is gone (completed, aborted, expired).
  std::optional<std::vector<ListedPart>> list_parts(const std::string& key, const std::string& upload_id);
  void delete_object(const std::string& key);
  std::optional<std::string> get_object(const std::string& key);
  bool get_object_to(const std::string& key, ByteSink& sink);

  const S3Settings& settings() const { return settings_; }
  const std::string& bucket() const { return bucket_; }
  const RequestStats& stats() const { return stats_; }
  // "s3://bucket/key", for messages.
  std::string url_of(const std::string& key) const { return "s3://" + bucket_ + "/" + key; }

 private:
  struct Call {
    std::string method;
    std::string key;  // empty: the bucket itself
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::pair<std::string, std::string>> headers;
    RequestBody body;
    const BodyDigests* digests = nullptr;
    std::vector<long> accepted_statuses;  // besides 2xx, statuses that are answers, not errors (404 on HEAD)
    ByteSink* sink = nullptr;             // streams a GET's body; restarted on every attempt
    bool through_interrupt = false;       // sent even after Ctrl-C (see goes_through_interrupt)
  };
  HttpResponse send(const Call& call);
  HttpResponse send_once(const Call& call);
  std::string host_and_path(const std::string& key, std::string& host) const;
  bool use_virtual_host() const;
  void backoff(int attempt, bool cancellable);
  static bool goes_through_interrupt(const Call& call);
  [[noreturn]] void raise(const Call& call, const HttpResponse& response, int attempts) const;

  std::string bucket_;
  S3Settings settings_;
  Logger* log_;
  CancelToken* cancel_;
  HttpClient http_;
  std::string scheme_;
  std::string endpoint_host_;  // host[:port]
  RequestStats stats_;
  std::mutex rng_mutex_;
  std::mt19937_64 rng_;
};

}  // namespace splitship
