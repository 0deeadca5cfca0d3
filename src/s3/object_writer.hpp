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
  CommittedObject commit() override;
  void abort() noexcept override;
  ResumeStats resume_stats() const override;

 private:
  struct PartRecord {
    Md5Digest md5{};
    CompletedPart completed;
  };
  void adopt_upload(const UploadToResume& resume);
  bool held_by_server(int number, const PartBuffer& buffer, const Md5Digest& md5) const;
  void dispatch_current_part();
  void upload_part(int number, PartBuffer* buffer, Md5Digest md5) noexcept;
  void wait_for_parts();
  void rethrow_if_failed();
  bool should_stop() const;
  std::string put_single();
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
