#include "splitship/copy.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "splitship/error.hpp"
#include "splitship/fs.hpp"
#include "splitship/size.hpp"

namespace splitship {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kReadChunk = 4 << 20;

std::string join_key(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  return prefix.back() == '/' ? prefix + name : prefix + "/" + name;
}

CopiedObject upload_file(Store& store, const CopyItem& item, const std::string& bucket, CancelToken& cancel) {
  UniqueFd fd(::open(item.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) fail(ErrorKind::Input, "cannot read " + item.path + ": " + errno_text(errno));
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  auto writer = store.open_writer(item.key, WriteOptions{item.size, nullptr, std::nullopt});
  MultiHasher hasher;
  std::vector<char> buf(kReadChunk);
  for (;;) {
    if (cancel.cancelled()) fail(ErrorKind::Cancelled, "interrupted");
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(ErrorKind::Input, "cannot read " + item.path + ": " + errno_text(errno));
    }
    hasher.update(buf.data(), static_cast<std::size_t>(n));
    writer->write(buf.data(), static_cast<std::size_t>(n));
  }
  CopiedObject out;
  out.digests = hasher.finish();
  if (out.digests.size != item.size)
    fail(ErrorKind::Input, item.path + " changed size while it was being uploaded", "upload it again once it is stable");
  out.info = writer->commit();
  out.source = item.path;
  out.url = "s3://" + bucket + "/" + item.key;
  return out;
}

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

std::vector<CopiedObject> run_copy(const CopyConfig& config, Logger& log, CancelToken& cancel) {
  const StoreLocation loc = parse_store_location(config.dest);
  if (loc.scheme != StoreLocation::Scheme::S3)
    fail(ErrorKind::Usage, "cp uploads to s3:// destinations; '" + config.dest + "' is not one",
         "use s3://BUCKET/KEY or s3://BUCKET/PREFIX/");
  // The store is opened at the bucket root: keys are the full keys the user typed.
  const bool dest_is_folder = config.dest.ends_with("/");
  const auto items = plan_copy(config.source, loc.prefix + (dest_is_folder && !loc.prefix.empty() ? "/" : ""),
                               dest_is_folder, config.recursive);
  auto store = make_s3_store(S3Location{loc.root, ""}, config.s3, &log, &cancel);
  std::vector<CopiedObject> done;
  for (const auto& item : items) {
    done.push_back(upload_file(*store, item, loc.root, cancel));
    log.info("uploaded", {{"source", item.path}, {"object", done.back().url},
                          {"bytes", std::to_string(item.size)}, {"etag", done.back().info.etag}});
  }
  return done;
}

}  // namespace splitship
