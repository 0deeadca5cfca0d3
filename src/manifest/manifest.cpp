#include "splitship/manifest.hpp"

#include "splitship/error.hpp"

namespace splitship {

using json = nlohmann::ordered_json;

namespace {

json stats_to_json(const SplitEntry& split) {
  const SplitStats& s = split.stats;
  json j;
  j["num_documents"] = s.num_documents;
  j["num_bytes"] = split.num_bytes();
  json fields = json::array();
  for (const auto& f : s.schema_fields) fields.push_back({{"name", f.name}, {"type", f.type}});
  j["schema_fields"] = fields;
  j["feature_length"] = s.feature_length();
  j["feature_length_stats"] = {{"min", s.length.min}, {"max", s.length.max}, {"mean", s.length.mean},
                               {"p50", s.length.p50}, {"p95", s.length.p95}, {"p99", s.length.p99},
                               {"sum", s.length.sum}};
  json roles = json::object();
  for (const auto& [role, n] : s.role_distribution) roles[role] = n;
  j["role_distribution"] = roles;
  json nulls = json::object();
  for (const auto& [col, n] : s.null_counts) nulls[col] = n;
  j["null_counts"] = nulls;
  j["checksum"] = split.checksum;
  json files = json::array();
  for (const auto& f : split.files) files.push_back(file_entry_to_json(f));
  j["files"] = files;
  return j;
}

SplitEntry split_from_json(const std::string& name, const json& j) {
  SplitEntry e;
  e.name = name;
  SplitStats& s = e.stats;
  s.num_documents = j.at("num_documents").get<std::uint64_t>();
  for (const auto& f : j.at("schema_fields")) s.schema_fields.push_back({f.at("name"), f.at("type")});
  const json& ls = j.at("feature_length_stats");
  s.length.min = ls.at("min");
  s.length.max = ls.at("max");
  s.length.mean = ls.at("mean");
  s.length.p50 = ls.at("p50");
  s.length.p95 = ls.at("p95");
  s.length.p99 = ls.at("p99");
  s.length.sum = ls.at("sum");
  if (j.at("feature_length").get<std::int64_t>() != s.length.max)
    throw std::runtime_error("feature_length differs from feature_length_stats.max");
  for (const auto& [role, n] : j.at("role_distribution").items()) s.role_distribution[role] = n.get<std::uint64_t>();
  if (j.contains("null_counts"))
    for (const auto& [col, n] : j.at("null_counts").items()) s.null_counts.emplace_back(col, n.get<std::uint64_t>());
  e.checksum = j.at("checksum");
  for (const auto& f : j.at("files")) e.files.push_back(file_entry_from_json(f));
  return e;
}

}  // namespace

nlohmann::ordered_json file_entry_to_json(const FileEntry& f) {
  json fj = {{"path", f.path}, {"size", f.size}, {"num_rows", f.num_rows},
             {"md5", f.md5},   {"sha256", f.sha256}, {"crc64nvme", f.crc64nvme}};
  if (!f.etag.empty()) fj["etag"] = f.etag;
  return fj;
}

FileEntry file_entry_from_json(const nlohmann::ordered_json& f) {
  FileEntry fe;
  fe.path = f.at("path");
  fe.size = f.at("size");
  fe.num_rows = f.at("num_rows");
  fe.md5 = f.at("md5");
  fe.sha256 = f.at("sha256");
  fe.crc64nvme = f.at("crc64nvme");
  fe.etag = f.value("etag", "");
  return fe;
}

std::uint64_t SplitEntry::num_bytes() const {
  std::uint64_t total = 0;
  for (const auto& f : files) total += f.size;
  return total;
}

std::string Manifest::to_json() const {
  json j;
  j["manifest_version"] = kVersion;
  j["run_id"] = run_id;
  j["created_at"] = created_at;
  j["tool"] = {{"name", tool_name}, {"version", tool_version}};
  j["source"] = source;
  j["split_rule"] = split_rule;
  j["settings"] = settings;
  json splits_json = json::object();
  for (const auto& s : splits) splits_json[s.name] = stats_to_json(s);
  j["splits"] = splits_json;
  return j.dump(2) + "\n";
}

Manifest Manifest::from_json(const std::string& text, const std::string& where) {
  try {
    const json j = json::parse(text);
    if (j.at("manifest_version").get<int>() != kVersion)
      fail(ErrorKind::Input, "manifest " + where + " has manifest_version " + j.at("manifest_version").dump() +
                                 ", this splitship reads version 1", "upgrade splitship");
    Manifest m;
    m.run_id = j.at("run_id");
    m.created_at = j.at("created_at");
    m.tool_name = j.at("tool").at("name");
    m.tool_version = j.at("tool").at("version");
    m.source = j.at("source");
    m.split_rule = j.at("split_rule");
    m.settings = j.value("settings", json::object());
    for (const auto& [name, sj] : j.at("splits").items()) m.splits.push_back(split_from_json(name, sj));
    return m;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail(ErrorKind::Input, "manifest " + where + " is corrupt: " + e.what(), "re-run the export or restore the file");
  }
}

}  // namespace splitship
