// The local-folder store: objects are files under root; writes go to a hidden temp file in
// the target folder and become visible by rename, so a reader never sees a partial file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "splitship/error.hpp"
#include "splitship/fs.hpp"
#include "splitship/log.hpp"
#include "splitship/store.hpp"

namespace fs = std::filesystem;

namespace splitship {
namespace {

constexpr std::string_view kTempMarker = ".tmp-";

std::string temp_path_for(const std::string& final_path) {
  const fs::path p(final_path);
  return (p.parent_path() / ("." + p.filename().string() + std::string(kTempMarker) + random_suffix(8))).string();
}

// ".part-00001.parquet.tmp-k3j9qa7b" → the temp file of an unfinished write.
bool is_temp_name(const std::string& filename) {
  const auto at = filename.rfind(kTempMarker);
  return !filename.empty() && filename[0] == '.' && at != std::string::npos &&
         filename.size() == at + kTempMarker.size() + 8;
}



UniqueFd create_exclusive(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd)
    fail(ErrorKind::Destination, "cannot create " + path + ": " + errno_text(errno),
         "check that the destination is writable");
  return fd;
}

class LocalWriter final : public ObjectWriter {
 public:
  LocalWriter(std::string key, std::string final_path)
      : key_(std::move(key)), final_(std::move(final_path)), temp_(temp_path_for(final_)) {
    make_dirs(fs::path(final_).parent_path().string());
    fd_ = create_exclusive(temp_);
  }
  ~LocalWriter() override { abort(); }

  void write(const void* data, std::size_t size) override {
    hasher_.update(data, size);
    write_all(fd_.get(), data, size, temp_);
    size_ += size;
  }

  CommittedObject commit() override {
    fsync_or_throw(fd_.get(), temp_);
    fd_.reset();
    if (::rename(temp_.c_str(), final_.c_str()) != 0)
      fail(ErrorKind::Store, "cannot rename " + temp_ + " to " + final_ + ": " + errno_text(errno));
    temp_.clear();
    fsync_dir(fs::path(final_).parent_path().string());
    return CommittedObject{ObjectInfo{key_, size_, {}}, hasher_.finish()};
  }

  void abort() noexcept override {
    fd_.reset();
    if (!temp_.empty()) ::unlink(temp_.c_str());
    temp_.clear();
  }

 private:
  std::string key_, final_, temp_;
  UniqueFd fd_;
  std::uint64_t size_ = 0;
  MultiHasher hasher_;
};

void write_temp_file(const std::string& temp, std::string_view data) {
  UniqueFd fd = create_exclusive(temp);
  write_all(fd.get(), data.data(), data.size(), temp);
  fsync_or_throw(fd.get(), temp);
}

}  // namespace

LocalStore::LocalStore(std::string root) : root_(std::move(root)) {}

std::string LocalStore::url() const { return "file://" + root_; }
std::string LocalStore::url_of(std::string_view key) const { return "file://" + path_of(key); }

std::string LocalStore::path_of(std::string_view key) const {
  return root_ == "/" ? "/" + std::string(key) : root_ + "/" + std::string(key);
}

std::unique_ptr<ObjectWriter> LocalStore::open_writer(const std::string& key, const WriteOptions& /*options*/) {
  return std::make_unique<LocalWriter>(key, path_of(key));
}

std::optional<ObjectInfo> LocalStore::head(const std::string& key) {
  struct stat st {};
  if (::stat(path_of(key).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return ObjectInfo{key, static_cast<std::uint64_t>(st.st_size), {}};
}

// Calls visit(key, stat) for every regular file under the prefix: finished objects and
// temp files of unfinished writes alike.
template <typename Visit>
void LocalStore::walk(const std::string& prefix, Visit&& visit) const {
  const fs::path base = path_of(prefix);
  std::error_code ec;
  if (!fs::is_directory(base, ec)) return;
  for (auto it = fs::recursive_directory_iterator(base, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st {};
    if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    visit(fs::relative(it->path(), root_, ec).string(), st);
  }
}

std::vector<ObjectInfo> LocalStore::list(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  walk(prefix, [&](const std::string& key, const struct stat& st) {
    if (!is_temp_name(fs::path(key).filename().string()))
      out.push_back(ObjectInfo{key, static_cast<std::uint64_t>(st.st_size), {}});
  });
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

void LocalStore::remove(const std::string& key) {
  const std::string path = path_of(key);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    fail(ErrorKind::Store, "cannot remove " + path + ": " + errno_text(errno));
  // Folders exist only as key prefixes: drop the ones this removal left empty, as S3 would.
  remove_empty_folders_up_from(fs::path(path).parent_path().string());
}

void LocalStore::remove_empty_folders_up_from(const std::string& dir) const {
  for (fs::path d = dir; d.string().size() > root_.size(); d = d.parent_path())
    if (::rmdir(d.c_str()) != 0) break;
}

std::vector<PendingUpload> LocalStore::pending_uploads(const std::string& prefix) {
  std::vector<PendingUpload> out;
  walk(prefix, [&](const std::string& temp_key, const struct stat& st) {
    const std::string name = fs::path(temp_key).filename().string();
    if (!is_temp_name(name)) return;
    const std::string target = name.substr(1, name.rfind(kTempMarker) - 1);
    out.push_back(PendingUpload{(fs::path(temp_key).parent_path() / target).string(), temp_key, iso8601_utc(st.st_mtim)});
  });
  std::sort(out.begin(), out.end(), [](const PendingUpload& a, const PendingUpload& b) { return a.upload_id < b.upload_id; });
  return out;
}

void LocalStore::abort_upload(const PendingUpload& upload) { remove(upload.upload_id); }

void LocalStore::drop_empty_prefix(const std::string& prefix) {
  fs::path top = path_of(prefix);
  if (!top.has_filename()) top = top.parent_path();  // "run/" names the folder run
  std::error_code ec;
  if (!fs::is_directory(top, ec)) return;
  // Deepest first, so a folder holding only empty folders goes too; rmdir refuses non-empty ones.
  std::vector<fs::path> dirs;
  for (auto it = fs::recursive_directory_iterator(top, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_directory(ec) && !it->is_symlink(ec)) dirs.push_back(it->path());
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) { return a.string().size() > b.string().size(); });
  for (const auto& dir : dirs) ::rmdir(dir.c_str());
  remove_empty_folders_up_from(top.string());
}

std::optional<std::string> LocalStore::get_small(const std::string& key) {
  std::ifstream in(path_of(key), std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool LocalStore::read(const std::string& key, ByteSink& sink) {
  const std::string path = path_of(key);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return false;
    fail(ErrorKind::Store, "cannot read " + path + ": " + errno_text(errno));
  }
  sink.restart();
  std::vector<char> buf(4 << 20);
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(ErrorKind::Store, "cannot read " + path + ": " + errno_text(errno));
    }
    sink.consume(buf.data(), static_cast<std::size_t>(n));
  }
}

bool LocalStore::put_if_absent(const std::string& key, std::string_view data) {
  const std::string final_path = path_of(key);
  make_dirs(fs::path(final_path).parent_path().string());
  const std::string temp = temp_path_for(final_path);
  write_temp_file(temp, data);
  // link() is the create-exclusive step: it fails with EEXIST when the key already exists.
  const int rc = ::link(temp.c_str(), final_path.c_str());
  const int err = errno;
  ::unlink(temp.c_str());
  if (rc != 0) {
    if (err == EEXIST) return false;
    fail(ErrorKind::Store, "cannot publish " + final_path + ": " + errno_text(err));
  }
  fsync_dir(fs::path(final_path).parent_path().string());
  return true;
}

void LocalStore::put_replace(const std::string& key, std::string_view data) {
  const std::string final_path = path_of(key);
  make_dirs(fs::path(final_path).parent_path().string());
  const std::string temp = temp_path_for(final_path);
  write_temp_file(temp, data);
  if (::rename(temp.c_str(), final_path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    fail(ErrorKind::Store, "cannot write " + final_path + ": " + errno_text(err));
  }
  fsync_dir(fs::path(final_path).parent_path().string());
}

void LocalStore::check_writable(const std::string& /*prefix*/) {
  // Probe the destination itself: run folders appear with their first object, so a refused
  // export leaves no empty run folder behind.
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec || ::access(root_.c_str(), W_OK) != 0)
    fail(ErrorKind::Destination, "destination " + root_ + " is not writable" + (ec ? ": " + ec.message() : ""),
         "choose a folder you can write to");
}

}  // namespace splitship
