// One object streamed to S3: bytes fill part buffers from the store's BufferPool; a full part
// is hashed (Content-MD5, payload SHA-256) and uploaded on the TaskPool while the next one
// fills. Below one part size the object is a single PutObject. At commit the ETag the server
// reports is compared with the one predicted from our MD5s.
#pragma once
#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "s3/s3_client.hpp"
#include "splitship/store.hpp"
#include "util/task_pool.hpp"

namespace splitship {

class S3ObjectWriter final : public ObjectWriter {
 public:
  // key: full key in the bucket; store_key: the key as the Store's caller knows it.
  // With options.resume the upload continues: ListParts says what the server holds.
  S3ObjectWriter(S3Client& client, TaskPool& pool, BufferPool& buffers, std::string key, std::string store_key,
                 std::uint64_t part_size, const WriteOptions& options, Logger* log, CancelToken* cancel);
  ~S3ObjectWriter() override;

  void write(const void* data, std::size_t size) override;
  // Parts go straight from the file (hashed in slices, then read again as they are sent):
  // no part buffer is filled. Falls back to write() once bytes were written the other way.
  void write_file(int fd, const std::string& path, std::uint64_t size,
                  const std::function<void(std::uint64_t)>& on_read) override;
  CommittedObject commit() override;
  void abort() noexcept override;
  ResumeStats resume_stats() const override;

 private:
  struct PartRecord {
    Md5Digest md5{};
    CompletedPart completed;
  };
  void adopt_upload(const UploadToResume& resume);
  bool held_by_server(int number, std::uint64_t size, const Md5Digest& md5) const;
  int next_part_number();
  void dispatch_current_part();
  void upload_part(int number, PartBuffer* buffer, Md5Digest md5) noexcept;
  BodyDigests hash_file_range(int fd, const std::string& path, std::uint64_t offset, std::size_t size,
                              const std::function<void(std::uint64_t)>& on_read);
  void upload_file_part(int number, RequestBody body, BodyDigests digests) noexcept;
  void send_part(int number, const RequestBody& body, const BodyDigests& digests);
  void part_finished() noexcept;
  void record_failure() noexcept;
  void wait_for_room();
  void wait_for_parts();
  void rethrow_if_failed();
  bool should_stop() const;
  std::string put_single();
  std::string put_single_file();
  std::string complete_multipart();
  void confirm_etag(std::string reported, const std::string& predicted);

  S3Client& client_;
  TaskPool& pool_;
  BufferPool& buffers_;
  std::string key_;
  std::string store_key_;
  std::uint64_t part_size_;
  UploadObserver* observer_;
  Logger* log_;
  CancelToken* cancel_;
  // Parts an earlier process uploaded to the adopted upload: number → (size, ETag).
  std::map<int, std::pair<std::uint64_t, std::string>> held_;
  std::atomic<std::uint64_t> parts_reused_{0}, bytes_reused_{0};

  PartBuffer* current_ = nullptr;
  // A file below one part size, hashed by write_file and sent by commit() in one PUT.
  std::optional<std::pair<RequestBody, BodyDigests>> single_file_;
  std::vector<char> file_slice_;  // where write_file hashes a file, a slice at a time
  MultiHasher hasher_;  // fed as bytes enter current_: the part's MD5 and the whole object's
  std::uint64_t size_ = 0;
  std::string upload_id_;
  int next_part_ = 1;
  bool finished_ = false;  // committed or aborted

  std::mutex mutex_;
  std::condition_variable parts_done_;
  int in_flight_ = 0;
  std::vector<PartRecord> parts_;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
};

}  // namespace splitship
