#include "splitship/copy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "splitship/error.hpp"
#include "splitship/fs.hpp"
#include "splitship/size.hpp"
#include "util/task_pool.hpp"

namespace splitship {
namespace fs = std::filesystem;

namespace {

std::string join_key(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  return prefix.back() == '/' ? prefix + name : prefix + "/" + name;
}

// Bytes handed to the store, shared by the files uploading at once.
struct CopyCounters {
  std::atomic<std::uint64_t> bytes{0}, files{0};
};

CopiedObject upload_file(Store& store, const CopyItem& item, const std::string& bucket, CancelToken& cancel,
                         CopyCounters& counters) {
  UniqueFd fd(::open(item.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) fail(ErrorKind::Input, "cannot read " + item.path + ": " + errno_text(errno));
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  auto writer = store.open_writer(item.key, WriteOptions{item.size, nullptr, std::nullopt});
  writer->write_file(fd.get(), item.path, item.size, [&](std::uint64_t n) {
    if (cancel.cancelled()) fail(ErrorKind::Cancelled, "interrupted");
    counters.bytes += n;
  });
  // A file that grew while it was read would be stored cut short: say so instead.
  struct stat now {};
  if (::fstat(fd.get(), &now) != 0 || static_cast<std::uint64_t>(now.st_size) != item.size)
    fail(ErrorKind::Input, item.path + " changed size while it was being uploaded", "upload it again once it is stable");
  CommittedObject committed = writer->commit();
  CopiedObject out;
  out.digests = committed.digests;
  out.info = std::move(committed.info);
  out.source = item.path;
  out.url = "s3://" + bucket + "/" + item.key;
  counters.files += 1;
  return out;
}

// Redraws the progress line until stopped; the one thread cp adds besides the upload pool.
class CopyTicker {
 public:
  CopyTicker(ProgressListener* listener, const CopyCounters& counters, const std::vector<CopyItem>& items)
      : listener_(listener), counters_(counters), start_(std::chrono::steady_clock::now()) {
    total_.files_total = items.size();
    for (const auto& i : items) total_.bytes_total += i.size;
    if (listener_) thread_ = std::thread([this] { loop(); });
  }
  ~CopyTicker() {
    if (!listener_) return;
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
    draw();
    listener_->finish();
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; })) draw();
  }
  void draw() {
    ProgressSnapshot s;
    s.phase = "uploading";
    s.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    s.transfer = total_;
    s.transfer.bytes_done = counters_.bytes.load();
    s.transfer.files_done = counters_.files.load();
    listener_->update(s);
  }

  ProgressListener* listener_;
  const CopyCounters& counters_;
  TransferProgress total_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};


}  // namespace

std::vector<CopyItem> plan_copy(const std::string& source, const std::string& dest_prefix, bool dest_is_folder,
                                bool recursive) {
  std::error_code ec;
  const auto status = fs::status(source, ec);
  if (ec || !fs::exists(status)) fail(ErrorKind::Input, "source " + source + " does not exist");
  std::vector<CopyItem> items;
  if (fs::is_directory(status)) {
    if (!recursive) fail(ErrorKind::Usage, source + " is a folder", "pass --recursive to upload its files");
    for (auto it = fs::recursive_directory_iterator(source, fs::directory_options::follow_directory_symlink);
         it != fs::recursive_directory_iterator(); ++it) {
      // Skipping silently would upload less than the user asked for; folders and devices are
      // not files to upload, but a broken link is a mistake worth stopping for.
      if (it->is_symlink() && !fs::exists(it->path()))
        fail(ErrorKind::Input, it->path().string() + " is a broken symbolic link", "fix or remove it, then run cp again");
      if (!it->is_regular_file()) continue;
      const std::string rel = fs::relative(it->path(), source).generic_string();
      items.push_back({it->path().string(), join_key(dest_prefix, rel), it->file_size()});
    }
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    return items;
  }
  if (!fs::is_regular_file(status)) fail(ErrorKind::Input, source + " is not a regular file");
  if (recursive) fail(ErrorKind::Usage, source + " is a file", "drop --recursive to upload one file");
  const std::string key =
      dest_is_folder || dest_prefix.empty() ? join_key(dest_prefix, fs::path(source).filename().string()) : dest_prefix;
  items.push_back({source, key, fs::file_size(source)});
  return items;
}

std::vector<CopiedObject> run_copy(const CopyConfig& config, Logger& log, CancelToken& cancel, ProgressListener* progress) {
  const StoreLocation loc = parse_store_location(config.dest);
  if (loc.scheme != StoreLocation::Scheme::S3)
    fail(ErrorKind::Usage, "cp uploads to s3:// destinations; '" + config.dest + "' is not one",
         "use s3://BUCKET/KEY or s3://BUCKET/PREFIX/");
  // The store is opened at the bucket root: keys are the full keys the user typed.
  const bool dest_is_folder = config.dest.ends_with("/");
  const auto items = plan_copy(config.source, loc.prefix + (dest_is_folder && !loc.prefix.empty() ? "/" : ""),
                               dest_is_folder, config.recursive);
  // A failing file stops the others through this token, which the user's Ctrl-C also sets.
  CancelToken stop;
  auto store = make_s3_store(S3Location{loc.root, ""}, config.s3, &log, &stop);
  CopyCounters counters;
  std::vector<CopiedObject> done(items.size());
  std::vector<std::exception_ptr> errors(items.size());
  {
    CopyTicker ticker(progress, counters, items);
    TaskPool files(static_cast<int>(std::clamp<std::size_t>(static_cast<std::size_t>(std::max(1, config.parallel_files)), 1, std::max<std::size_t>(items.size(), 1))));
    for (std::size_t i = 0; i < items.size(); ++i)
      files.submit([&, i] {
        try {
          if (stop.cancelled() || cancel.cancelled()) fail(ErrorKind::Cancelled, "interrupted");
          done[i] = upload_file(*store, items[i], loc.root, stop, counters);
          log.info("uploaded", {{"source", items[i].path}, {"object", done[i].url},
                                {"bytes", std::to_string(items[i].size)}, {"etag", done[i].info.etag}});
        } catch (...) {
          errors[i] = std::current_exception();
          stop.cancel();
        }
      });
    // The user's Ctrl-C reaches the uploads through `stop`.
    while (!files.idle()) {
      if (cancel.cancelled()) stop.cancel();
      files.wait_idle_for(std::chrono::milliseconds(100));
    }
  }
  rethrow_root_cause(errors, cancel.cancelled());
  return done;
}

}  // namespace splitship
