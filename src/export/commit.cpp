// `splitship commit`: the shards of a sharded export become one published run. Every check
// comes before the manifest is written, so a failed commit publishes nothing.
#include <algorithm>
#include <map>
#include <set>

#include "splitship/error.hpp"
#include "splitship/export.hpp"
#include "splitship/stats.hpp"

namespace splitship {
namespace {

using json = nlohmann::ordered_json;

struct Fragment {
  int index = 0;
  Manifest manifest;
  json config;
  std::map<std::string, LengthGrid> grids;
};

std::string shard_name(int index, int count) { return std::to_string(index) + "/" + std::to_string(count); }

std::vector<Fragment> read_fragments(Store& store, const std::string& run_id, int count) {
  std::vector<Fragment> fragments;
  std::vector<std::string> missing;
  for (int i = 0; i < count; ++i) {
    const std::string key = shard_fragment_key(run_id, i, count);
    const auto text = store.get_small(key);
    if (!text) {
      missing.push_back(shard_name(i, count));
      continue;
    }
    Fragment f;
    f.index = i;
    f.manifest = Manifest::from_json(*text, store.url_of(key));
    try {
      const json j = json::parse(*text);
      if (j.at("shard").at("index").get<int>() != i || j.at("shard").at("count").get<int>() != count)
        fail(ErrorKind::Input, store.url_of(key) + " is the fragment of another shard", "remove it and run that shard again");
      f.config = j.at("config");
      for (const auto& [split, g] : j.at("length_grids").items())
        f.grids[split] = LengthGrid{g.at("count").get<std::uint64_t>(), g.at("values").get<std::vector<std::int64_t>>()};
    } catch (const nlohmann::json::exception& e) {
      fail(ErrorKind::Input, store.url_of(key) + " is not a shard fragment: " + e.what(), "run that shard again");
    }
    fragments.push_back(std::move(f));
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    fail(ErrorKind::Destination, std::to_string(missing.size()) + " of " + std::to_string(count) + " shards of run " +
                                     run_id + " are not done: " + list,
         "run those shards (the same export command with --shard I/N), then commit again");
  }
  return fragments;
}

void refuse_other_settings(const std::vector<Fragment>& fragments) {
  for (const auto& f : fragments) {
    if (const auto change = describe_config_change(fragments.front().config, f.config))
      fail(ErrorKind::Usage, "shard " + std::to_string(f.index) + " was made with other settings than shard " +
                                 std::to_string(fragments.front().index) + ": " + *change,
           "run every shard with the same command, only --shard differing");
    if (f.manifest.split_rule != fragments.front().manifest.split_rule)
      fail(ErrorKind::Usage, "shard " + std::to_string(f.index) + " split the rows by another rule",
           "run every shard with the same command, only --shard differing");
  }
}

// Each listed object must be in the store as the fragment says (HEAD only, no reading back).
void confirm_objects(Store& store, const std::string& run_id, const std::vector<Fragment>& fragments) {
  for (const auto& f : fragments)
    for (const auto& split : f.manifest.splits)
      for (const auto& file : split.files) {
        const std::string key = run_id + "/" + file.path;
        const auto info = store.head(key);
        if (!info)
          fail(ErrorKind::Integrity, store.url_of(key) + " (listed by shard " + std::to_string(f.index) + ") is missing",
               "run that shard again after removing its fragment " + store.url_of(shard_fragment_key(run_id, f.index, static_cast<int>(fragments.size()))));
        if (info->size != file.size || (!file.etag.empty() && !info->etag.empty() && info->etag != file.etag))
          fail(ErrorKind::Integrity, store.url_of(key) + " differs from shard " + std::to_string(f.index) +
                                         "'s record (size " + std::to_string(info->size) + " vs " + std::to_string(file.size) +
                                         ", ETag " + info->etag + " vs " + file.etag + ")",
               "run that shard again after removing its fragment");
      }
}

// Split order as a single-process export has it: the rule's order, or by name for a column.
std::vector<std::string> split_order(const std::vector<Fragment>& fragments) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& f : fragments)
    for (const auto& s : f.manifest.splits)
      if (seen.insert(s.name).second) names.push_back(s.name);
  if (fragments.front().manifest.split_rule.value("kind", "") == "column") std::sort(names.begin(), names.end());
  return names;
}

SplitEntry merge_split(const std::string& name, const std::vector<Fragment>& fragments) {
  std::vector<SplitStats> stats;
  std::vector<LengthGrid> grids;
  SplitEntry out;
  out.name = name;
  for (const auto& f : fragments)
    for (const auto& s : f.manifest.splits) {
      if (s.name != name) continue;
      stats.push_back(s.stats);
      auto g = f.grids.find(name);
      grids.push_back(g == f.grids.end() ? LengthGrid{} : g->second);
      out.files.insert(out.files.end(), s.files.begin(), s.files.end());
    }
  try {
    out.stats = merge_split_stats(stats, grids);
  } catch (const Error& e) {
    fail(ErrorKind::Input, "split '" + name + "': " + e.what(), "give every input file the same columns, or export without shards");
  }
  out.checksum = stats_checksum(out.stats);
  return out;
}

// The input files of all shards once each (a Parquet file cut by row groups is in several).
json merged_source(const std::vector<Fragment>& fragments) {
  json source = fragments.front().manifest.source;
  auto merge_files = [&](auto get) {
    std::map<std::string, json> by_path;
    for (const auto& f : fragments)
      for (const auto& file : get(f.manifest.source)) by_path.emplace(file.at("path").template get<std::string>(), file);
    json files = json::array();
    for (auto& [path, file] : by_path) files.push_back(file);
    return files;
  };
  if (source.at("files").is_array()) {
    source["files"] = merge_files([](const json& s) { return s.at("files"); });
  } else {
    for (const auto& [split, list] : source.at("files").items())
      source["files"][split] = merge_files([&split](const json& s) { return s.at("files").value(split, json::array()); });
  }
  return source;
}

}  // namespace

CommitResult commit_shards(Store& store, const std::string& run_id, int shards, Logger& log) {
  if (shards < 1) fail(ErrorKind::Usage, "--shards must be at least 1");
  const std::string manifest_key = run_id + "/" + kManifestName;
  if (store.head(manifest_key))
    fail(ErrorKind::Destination, "run " + run_id + " is already published at " + store.url_of(manifest_key),
         "nothing to commit");
  const std::vector<Fragment> fragments = read_fragments(store, run_id, shards);
  refuse_other_settings(fragments);
  confirm_objects(store, run_id, fragments);

  Manifest m;
  m.run_id = run_id;
  m.created_at = utc_now_iso8601();
  m.tool_version = tool_version();
  m.source = merged_source(fragments);
  m.split_rule = fragments.front().manifest.split_rule;
  m.settings = fragments.front().manifest.settings;
  for (const auto& f : fragments)  // an empty shard knows nothing of the length source
    if (f.manifest.settings.value("length", "") != "") m.settings = f.manifest.settings;
  m.settings["shards"] = shards;
  m.settings["percentiles"] = "merged from per-shard rank grids (rank error <= 0.1%)";
  for (const auto& name : split_order(fragments)) m.splits.push_back(merge_split(name, fragments));

  if (!store.put_if_absent(manifest_key, m.to_json()))
    fail(ErrorKind::Destination, "run " + run_id + " was published by another commit while this one ran", "nothing to do");
  for (int i = 0; i < shards; ++i) {
    try {
      store.remove(shard_fragment_key(run_id, i, shards));
    } catch (const std::exception& e) {
      log.warn("published, but a shard fragment could not be removed; `splitship gc` lists it",
               {{"fragment", store.url_of(shard_fragment_key(run_id, i, shards))}, {"error", e.what()}});
    }
  }
  log.info("published", {{"manifest", store.url_of(manifest_key)}, {"shards", std::to_string(shards)}});
  return CommitResult{std::move(m), store.url() + "/" + run_id, store.stats()};
}

}  // namespace splitship
