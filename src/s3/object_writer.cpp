#include "s3/object_writer.hpp"

#include <chrono>
#include <cstring>

#include "splitship/error.hpp"
#include "splitship/size.hpp"

namespace splitship {

S3ObjectWriter::S3ObjectWriter(S3Client& client, TaskPool& pool, BufferPool& buffers, std::string key,
                               std::string store_key, std::uint64_t part_size, const WriteOptions& options,
                               Logger* log, CancelToken* cancel)
    : client_(client),
      pool_(pool),
      buffers_(buffers),
      key_(std::move(key)),
      store_key_(std::move(store_key)),
      part_size_(part_size),
      observer_(options.observer),
      log_(log),
      cancel_(cancel) {
  if (options.resume) adopt_upload(*options.resume);
}

void S3ObjectWriter::adopt_upload(const UploadToResume& resume) {
  auto parts = client_.list_parts(key_, resume.upload_id);
  if (!parts) {
    if (log_) log_->info("the upload to continue is gone; sending the object again", {{"object", client_.url_of(key_)}});
    return;
  }
  upload_id_ = resume.upload_id;
  // The held parts were cut at the earlier part size; keep it so part numbers line up.
  part_size_ = resume.part_size;
  for (const auto& p : *parts) held_[p.number] = {p.size, p.etag};
}

// A held part is reused only when it is byte for byte what we would send: the server's ETag
// of a part is its MD5.
bool S3ObjectWriter::held_by_server(int number, std::uint64_t size, const Md5Digest& md5) const {
  const auto it = held_.find(number);
  return it != held_.end() && it->second.first == size && it->second.second == to_hex(md5);
}

ResumeStats S3ObjectWriter::resume_stats() const { return ResumeStats{parts_reused_.load(), bytes_reused_.load()}; }

S3ObjectWriter::~S3ObjectWriter() {
  if (!finished_) abort();
}

bool S3ObjectWriter::should_stop() const { return failed_.load() || (cancel_ && cancel_->cancelled()); }

void S3ObjectWriter::rethrow_if_failed() {
  std::lock_guard lock(mutex_);
  if (error_) std::rethrow_exception(error_);
}

void S3ObjectWriter::write(const void* data, std::size_t size) {
  if (finished_) fail(ErrorKind::Internal, "write after commit or abort on " + client_.url_of(key_));
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    rethrow_if_failed();
    if (!current_) {
      current_ = buffers_.acquire([this] { return should_stop(); });
      if (!current_) {
        rethrow_if_failed();
        fail(ErrorKind::Cancelled, "interrupted");
      }
    }
    // A full part is sent only once more bytes arrive, so an object of exactly one part size
    // is still known to be one part at commit.
    if (current_->size() == part_size_) {
      dispatch_current_part();
      continue;
    }
    const std::size_t n = std::min<std::size_t>(size, part_size_ - current_->size());
    current_->insert(current_->end(), p, p + n);
    hasher_.update(p, n);
    p += n;
    size -= n;
    size_ += n;
  }
}

// Starts the upload on its first part and hands out part numbers, within S3's 10,000.
int S3ObjectWriter::next_part_number() {
  if (upload_id_.empty()) {
    upload_id_ = client_.create_multipart_upload(key_);
    if (observer_) observer_->upload_started(upload_id_, part_size_);
  }
  if (static_cast<std::uint64_t>(next_part_) > kMaxParts)
    fail(ErrorKind::Usage, client_.url_of(key_) + " would need more than 10,000 parts of " + format_size(part_size_),
         "raise --part-size");
  const int number = next_part_++;
  std::lock_guard lock(mutex_);
  ++in_flight_;
  if (parts_.size() < static_cast<std::size_t>(number)) parts_.resize(number);
  return number;
}

void S3ObjectWriter::dispatch_current_part() {
  const int number = next_part_number();
  const Md5Digest md5 = hasher_.finish_part();
  PartBuffer* buffer = current_;
  current_ = nullptr;
  pool_.submit([this, number, buffer, md5] { upload_part(number, buffer, md5); });
}

void S3ObjectWriter::upload_part(int number, PartBuffer* buffer, Md5Digest md5) noexcept {
  try {
    if (!should_stop()) {
      const BodyDigests d = client_.digest_body(buffer->data(), buffer->size(), &md5);
      send_part(number, RequestBody::memory(buffer->data(), buffer->size()), d);
    }
  } catch (...) {
    record_failure();
  }
  buffers_.release(buffer);
  part_finished();
}

void S3ObjectWriter::upload_file_part(int number, RequestBody body, BodyDigests digests) noexcept {
  try {
    if (!should_stop()) send_part(number, body, digests);
  } catch (...) {
    record_failure();
  }
  part_finished();
}

// Called from a catch block on a pool thread: the first error is the one commit() rethrows,
// and failed_ makes the queued parts skip their upload.
void S3ObjectWriter::record_failure() noexcept {
  std::lock_guard lock(mutex_);
  if (!error_) error_ = std::current_exception();
  failed_ = true;
}

// Sends one part (or keeps the copy an earlier process left) and records what Complete needs.
void S3ObjectWriter::send_part(int number, const RequestBody& body, const BodyDigests& d) {
  const bool reuse = held_by_server(number, body.size, d.md5);
  const std::string etag = reuse ? to_hex(d.md5) : client_.upload_part(key_, upload_id_, number, body, d);
  if (reuse) {
    parts_reused_ += 1;
    bytes_reused_ += body.size;
  }
  // The part ETag is the part's MD5 on S3-compatible stores: the server proves what it kept.
  if (!etag.empty() && etag != to_hex(d.md5))
    fail(ErrorKind::Integrity, "part " + std::to_string(number) + " of " + client_.url_of(key_) +
                                   " stored with ETag " + etag + ", expected " + to_hex(d.md5));
  if (observer_) observer_->part_uploaded(number, body.size, to_hex(d.md5));
  std::lock_guard lock(mutex_);
  parts_[number - 1] = PartRecord{d.md5, CompletedPart{number, etag.empty() ? to_hex(d.md5) : etag, d.checksum_b64}};
}

void S3ObjectWriter::part_finished() noexcept {
  {
    std::lock_guard lock(mutex_);
    --in_flight_;
  }
  parts_done_.notify_all();
}

// File parts take no buffer, so this is what bounds how far hashing runs ahead of sending: as
// many parts in flight as there are part buffers, and the file's pages stay in the cache
// between the two reads.
void S3ObjectWriter::wait_for_room() {
  std::unique_lock lock(mutex_);
  while (in_flight_ >= static_cast<int>(buffers_.capacity()) && !error_) {
    if (cancel_ && cancel_->cancelled()) return;
    parts_done_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

void S3ObjectWriter::write_file(int fd, const std::string& path, std::uint64_t size,
                                const std::function<void(std::uint64_t)>& on_read) {
  if (finished_) fail(ErrorKind::Internal, "write after commit or abort on " + client_.url_of(key_));
  if (size_ != 0 || current_ || single_file_) {
    ObjectWriter::write_file(fd, path, size, on_read);
    return;
  }
  if (size < part_size_) {
    const BodyDigests d = hash_file_range(fd, path, 0, static_cast<std::size_t>(size), on_read);
    single_file_.emplace(RequestBody::file(fd, 0, static_cast<std::size_t>(size)), d);
    return;
  }
  for (std::uint64_t offset = 0; offset < size; offset += part_size_) {
    rethrow_if_failed();
    if (cancel_ && cancel_->cancelled()) fail(ErrorKind::Cancelled, "interrupted");
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(part_size_, size - offset));
    const BodyDigests d = hash_file_range(fd, path, offset, n, on_read);
    wait_for_room();
    const int number = next_part_number();
    const RequestBody body = RequestBody::file(fd, offset, n);
    pool_.submit([this, number, body, d] { upload_file_part(number, body, d); });
  }
}

// Reads a range of the file a slice at a time into the object's digests and the part's own.
BodyDigests S3ObjectWriter::hash_file_range(int fd, const std::string& path, std::uint64_t offset, std::size_t size,
                                            const std::function<void(std::uint64_t)>& on_read) {
  if (file_slice_.empty()) file_slice_.resize(256 * 1024);  // stays in the core's cache
  BodyDigester part(client_.settings());
  read_file_slices(fd, path, offset, size, file_slice_, [&](const char* data, std::size_t n) {
    hasher_.update(data, n);
    part.update(data, n);
    if (on_read) on_read(n);
  });
  size_ += size;
  return part.finish(hasher_.finish_part());
}

void S3ObjectWriter::wait_for_parts() {
  std::unique_lock lock(mutex_);
  parts_done_.wait(lock, [this] { return in_flight_ == 0; });
}

CommittedObject S3ObjectWriter::commit() {
  if (finished_) fail(ErrorKind::Internal, "commit twice on " + client_.url_of(key_));
  std::string etag;
  try {
    rethrow_if_failed();
    const bool small = single_file_ || (next_part_ == 1 && (!current_ || current_->size() < part_size_));
    if (small && !upload_id_.empty()) {
      // An adopted upload, but the object is now smaller than one part: a plain PUT is simpler.
      client_.abort_multipart_upload(key_, upload_id_);
      upload_id_.clear();
    }
    etag = single_file_ ? put_single_file() : small ? put_single() : complete_multipart();
  } catch (...) {
    abort();
    throw;
  }
  finished_ = true;
  return CommittedObject{ObjectInfo{store_key_, size_, etag}, hasher_.finish()};
}

std::string S3ObjectWriter::put_single() {
  static const char kEmpty = 0;
  const char* data = current_ ? current_->data() : &kEmpty;
  const std::size_t size = current_ ? current_->size() : 0;
  const Md5Digest md5 = hasher_.finish_part();  // the whole object's, being its only part
  const BodyDigests d = client_.digest_body(data, size, &md5);
  const std::string reported = client_.put_object(key_, RequestBody::memory(data, size), d);
  if (current_) {
    buffers_.release(current_);
    current_ = nullptr;
  }
  confirm_etag(reported, EtagBuilder::single_etag(d.md5));
  return EtagBuilder::single_etag(d.md5);
}

std::string S3ObjectWriter::put_single_file() {
  const auto& [body, digests] = *single_file_;
  const std::string reported = client_.put_object(key_, body, digests);
  confirm_etag(reported, EtagBuilder::single_etag(digests.md5));
  return EtagBuilder::single_etag(digests.md5);
}

std::string S3ObjectWriter::complete_multipart() {
  if (current_) dispatch_current_part();  // a file's parts are all out already
  wait_for_parts();
  rethrow_if_failed();
  // Parts an earlier process uploaded past our last one would make Complete fail on some
  // stores (Ceph: InvalidPart): the bytes changed since, so the object starts over.
  if (!held_.empty() && held_.rbegin()->first >= next_part_)
    fail(ErrorKind::Integrity, "the continued upload of " + client_.url_of(key_) + " holds part " +
                                   std::to_string(held_.rbegin()->first) + " beyond the object's last part " +
                                   std::to_string(next_part_ - 1),
         "the object is sent again from the start");
  EtagBuilder predicted;
  std::vector<CompletedPart> completed;
  for (const auto& p : parts_) {
    predicted.add_part(p.md5);
    completed.push_back(p.completed);
  }
  std::string reported = client_.complete_multipart_upload(key_, upload_id_, completed);
  upload_id_.clear();  // completed: nothing left to abort
  confirm_etag(reported, predicted.multipart_etag());
  return predicted.multipart_etag();
}

void S3ObjectWriter::confirm_etag(std::string reported, const std::string& predicted) {
  // Ceph's gateway leaves the ETag of CompleteMultipartUpload empty: ask with a HEAD (metadata).
  if (reported.empty()) {
    const auto head = client_.head_object(key_);
    if (!head) fail(ErrorKind::Integrity, client_.url_of(key_) + " is missing right after it was written");
    reported = head->etag;
  }
  if (reported != predicted) {
    try {
      client_.delete_object(key_);
    } catch (...) {
    }
    fail(ErrorKind::Integrity,
         "the server stored " + client_.url_of(key_) + " with ETag " + reported + " but we sent " + predicted,
         "the object was removed; run again, and report it if it repeats");
  }
}

void S3ObjectWriter::abort() noexcept {
  if (finished_) return;
  finished_ = true;
  failed_ = true;  // queued parts skip their upload
  wait_for_parts();
  if (current_) {
    buffers_.release(current_);
    current_ = nullptr;
  }
  if (!upload_id_.empty()) client_.abort_multipart_upload(key_, upload_id_);
  upload_id_.clear();
}

}  // namespace splitship
