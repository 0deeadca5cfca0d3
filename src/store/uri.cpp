#include <filesystem>

#include "splitship/error.hpp"
#include "splitship/fs.hpp"
#include "splitship/store.hpp"

namespace splitship {
namespace {

std::string trim_slashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

StoreLocation parse_store_location(std::string_view dest) {
  if (dest.empty()) fail(ErrorKind::Usage, "empty destination", "pass --dest PATH, file://PATH or s3://BUCKET/PREFIX");
  StoreLocation loc;
  if (dest.starts_with("s3://")) {
    std::string_view rest = dest.substr(5);
    const auto slash = rest.find('/');
    loc.scheme = StoreLocation::Scheme::S3;
    loc.root = std::string(rest.substr(0, slash));
    loc.prefix = slash == std::string_view::npos ? "" : trim_slashes(rest.substr(slash + 1));
    if (loc.root.empty())
      fail(ErrorKind::Usage, "destination '" + std::string(dest) + "' has no bucket", "use s3://BUCKET/PREFIX");
    return loc;
  }
  std::string_view path = dest;
  if (dest.starts_with("file://")) path = dest.substr(7);
  else if (dest.find("://") != std::string_view::npos)
    fail(ErrorKind::Usage, "unsupported destination scheme in '" + std::string(dest) + "'",
         "use a folder path, file://PATH or s3://BUCKET/PREFIX");
  if (path.empty()) fail(ErrorKind::Usage, "destination '" + std::string(dest) + "' has no path");
  loc.scheme = StoreLocation::Scheme::File;
  loc.root = absolute_path(path);
  while (loc.root.size() > 1 && loc.root.back() == '/') loc.root.pop_back();
  return loc;
}

std::pair<std::string, std::string> split_run_url(std::string_view run_url) {
  std::string s(run_url);
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  const auto slash = s.rfind('/');
  if (slash == std::string::npos || slash + 1 >= s.size())
    fail(ErrorKind::Usage, "'" + std::string(run_url) + "' does not name a run", "pass DEST/RUN_ID");
  std::string dest = s.substr(0, slash);
  if (dest.empty()) dest = "/";
  if (dest == "s3:/" || dest == "file:/") fail(ErrorKind::Usage, "'" + s + "' does not name a run", "pass DEST/RUN_ID");
  return {dest, s.substr(slash + 1)};
}

}  // namespace splitship
