#include "splitship/verify.hpp"

#include "splitship/error.hpp"
#include "splitship/hash.hpp"

namespace splitship {
namespace {

class HashingSink final : public ByteSink {
 public:
  void restart() override { hasher_ = MultiHasher(); }
  void consume(const char* data, std::size_t size) override { hasher_.update(data, size); }
  ObjectDigests finish() { return hasher_.finish(); }

 private:
  MultiHasher hasher_;
};

void check_split_totals(const SplitEntry& split, VerifyReport& report) {
  const std::string where = "split " + split.name;
  const std::string recomputed = stats_checksum(split.stats);
  if (recomputed != split.checksum) report.problems.push_back({where, "checksum", split.checksum, recomputed});
  std::uint64_t rows = 0;
  for (const auto& f : split.files) rows += f.num_rows;
  if (rows != split.stats.num_documents)
    report.problems.push_back({where, "rows", std::to_string(split.stats.num_documents), std::to_string(rows)});
}

void check_object(Store& store, const std::string& key, const FileEntry& file, bool deep, VerifyReport& report) {
  const auto info = store.head(key);
  if (!info) {
    report.problems.push_back({file.path, "exists", "present", "missing"});
    return;
  }
  ++report.objects;
  report.bytes += info->size;
  if (info->size != file.size)
    report.problems.push_back({file.path, "size", std::to_string(file.size), std::to_string(info->size)});
  if (!file.etag.empty() && !info->etag.empty() && info->etag != file.etag)
    report.problems.push_back({file.path, "etag", file.etag, info->etag});
  if (!deep) return;
  HashingSink sink;
  if (!store.read(key, sink)) {
    report.problems.push_back({file.path, "exists", "present", "missing"});
    return;
  }
  const ObjectDigests d = sink.finish();
  if (d.size != file.size) report.problems.push_back({file.path, "bytes read", std::to_string(file.size), std::to_string(d.size)});
  if (to_hex(d.md5) != file.md5) report.problems.push_back({file.path, "md5", file.md5, to_hex(d.md5)});
  if (to_hex(d.sha256) != file.sha256) report.problems.push_back({file.path, "sha256", file.sha256, to_hex(d.sha256)});
  if (crc64_to_base64(d.crc64nvme) != file.crc64nvme)
    report.problems.push_back({file.path, "crc64nvme", file.crc64nvme, crc64_to_base64(d.crc64nvme)});
}

}  // namespace

Manifest read_published_manifest(Store& store, const std::string& run_id) {
  const std::string key = run_id + "/" + kManifestName;
  const auto text = store.get_small(key);
  if (!text)
    fail(ErrorKind::Input, "no manifest at " + store.url_of(key), "the run was never published, or the path is wrong");
  return Manifest::from_json(*text, store.url_of(key));
}

VerifyReport verify_run(Store& store, const std::string& run_id, bool deep, CancelToken& cancel) {
  const Manifest manifest = read_published_manifest(store, run_id);
  VerifyReport report;
  report.run_url = store.url() + "/" + run_id;
  report.deep = deep;
  for (const auto& split : manifest.splits) {
    check_split_totals(split, report);
    for (const auto& file : split.files) {
      if (cancel.cancelled()) fail(ErrorKind::Cancelled, "interrupted");
      check_object(store, run_id + "/" + file.path, file, deep, report);
    }
  }
  return report;
}

}  // namespace splitship
