// Store over S3: keys are relative to s3://bucket/prefix. Uploads run on the store's own
// TaskPool with concurrency+1 part buffers, so memory is bounded whatever the data size.
#include <memory>

#include "s3/object_writer.hpp"
#include "s3/s3_client.hpp"
#include "splitship/error.hpp"
#include "splitship/s3.hpp"
#include "util/task_pool.hpp"

namespace splitship {
namespace {

class S3Store final : public Store {
 public:
  S3Store(S3Location location, const S3Settings& settings, Logger* log, CancelToken* cancel)
      : location_(std::move(location)),
        client_(location_.bucket, settings, log, cancel),
        log_(log),
        cancel_(cancel),
        buffers_(static_cast<std::size_t>(settings.concurrency) + 1, settings.part_size),
        pool_(settings.concurrency) {}

  StoreStats stats() const override {
    const auto& s = client_.stats();
    return StoreStats{s.requests.load(), s.retries.load(), s.bytes_sent.load()};
  }

  std::string url() const override {
    return "s3://" + location_.bucket + (location_.prefix.empty() ? "" : "/" + location_.prefix);
  }
  std::string url_of(std::string_view key) const override { return url() + "/" + std::string(key); }

  std::unique_ptr<ObjectWriter> open_writer(const std::string& key, const WriteOptions& options) override {
    return std::make_unique<S3ObjectWriter>(client_, pool_, buffers_, full_key(key), key,
                                            part_size_for(options.expected_size), options, log_, cancel_);
  }

  // The configured part size, grown (in whole MiB) when a known size would need > 10,000 parts.
  std::uint64_t part_size_for(std::uint64_t expected_size) const {
    const std::uint64_t configured = client_.settings().part_size;
    const std::uint64_t needed = (expected_size + kMaxParts - 1) / kMaxParts;
    if (needed <= configured) return configured;
    const std::uint64_t mib = 1ULL << 20;
    return std::min(kMaxPartSize, (needed + mib - 1) / mib * mib);
  }

  std::optional<ObjectInfo> head(const std::string& key) override {
    auto o = client_.head_object(full_key(key));
    if (!o) return std::nullopt;
    return ObjectInfo{key, o->size, o->etag};
  }

  std::vector<ObjectInfo> list(const std::string& prefix) override {
    std::vector<ObjectInfo> out;
    const std::size_t strip = location_.prefix.empty() ? 0 : location_.prefix.size() + 1;
    for (auto& o : client_.list_objects(full_key(prefix))) out.push_back({o.key.substr(strip), o.size, o.etag});
    return out;
  }

  void remove(const std::string& key) override { client_.delete_object(full_key(key)); }

  std::optional<std::string> get_small(const std::string& key) override {
    return client_.get_object(full_key(key));
  }

  bool read(const std::string& key, ByteSink& sink) override { return client_.get_object_to(full_key(key), sink); }

  bool put_if_absent(const std::string& key, std::string_view data) override {
    bool existed = false;
    put(key, data, S3PutOptions{true, false}, &existed);
    return !existed;
  }

  void put_replace(const std::string& key, std::string_view data) override { put(key, data, {}, nullptr); }

  void put_record(const std::string& key, std::string_view data) override {
    put(key, data, S3PutOptions{false, true}, nullptr);
  }

  std::vector<PendingUpload> pending_uploads(const std::string& prefix) override {
    std::vector<PendingUpload> out;
    const std::size_t strip = location_.prefix.empty() ? 0 : location_.prefix.size() + 1;
    for (auto& u : client_.list_multipart_uploads(full_key(prefix)))
      out.push_back({u.key.substr(std::min(strip, u.key.size())), u.upload_id, u.initiated});
    return out;
  }

  void abort_upload(const PendingUpload& upload) override {
    client_.abort_multipart_upload(full_key(upload.key), upload.upload_id);
  }

  void check_writable(const std::string& prefix) override {
    // Listing proves the bucket exists and the keys and signature work; starting (and at once
    // aborting) a multipart upload proves we may write, without creating any object.
    client_.list_objects(full_key(prefix), 1);
    const std::string probe = full_key(prefix.empty() ? ".splitship-write-probe" : prefix + "/.splitship-write-probe");
    const std::string id = client_.create_multipart_upload(probe);
    client_.abort_multipart_upload(probe, id);
  }

 private:
  std::string full_key(const std::string& key) const {
    return location_.prefix.empty() ? key : location_.prefix + "/" + key;
  }

  void put(const std::string& key, std::string_view data, const S3PutOptions& options, bool* existed) {
    const BodyDigests d = client_.digest_body(data.data(), data.size());
    const std::string etag = client_.put_object(full_key(key), RequestBody::memory(data.data(), data.size()), d, options,
                                                      existed);
    if (existed && *existed) return;
    if (!etag.empty() && etag != to_hex(d.md5))
      fail(ErrorKind::Integrity, "the server stored " + url_of(key) + " with ETag " + etag + ", expected " + to_hex(d.md5));
  }

  S3Location location_;
  S3Client client_;
  Logger* log_;
  CancelToken* cancel_;
  // Destroyed in reverse order: the pool first, so no upload task outlives what it uses.
  BufferPool buffers_;
  TaskPool pool_;
};

}  // namespace

std::unique_ptr<Store> make_s3_store(const S3Location& location, const S3Settings& settings, Logger* log,
                                     CancelToken* cancel) {
  return std::make_unique<S3Store>(location, settings, log, cancel);
}

}  // namespace splitship
