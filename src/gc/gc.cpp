#include "splitship/gc.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "export/journal.hpp"
#include "splitship/manifest.hpp"
#include "splitship/size.hpp"

namespace splitship {
namespace {

struct RunFolder {
  bool published = false;
  bool journaled = false;
  // A sharded run: its shards' journals (RUN/_journal/shard-I-of-N/run.json) and fragments.
  std::vector<std::string> shard_journals, fragments;
  std::vector<ObjectInfo> objects;
};

bool is_fragment_key(const std::string& run, const std::string& key) {
  return key.rfind(run + "/_shards/", 0) == 0;
}

// Run folders under the store root, from one listing: a run is "RUN/…" with a manifest or a journal.
std::map<std::string, RunFolder> find_runs(Store& store) {
  std::map<std::string, RunFolder> runs;
  std::vector<ObjectInfo> all = store.list("");
  for (const auto& obj : all) {
    const auto slash = obj.key.find('/');
    if (slash == std::string::npos) continue;
    const std::string run = obj.key.substr(0, slash);
    if (obj.key == run + "/" + kManifestName) runs[run].published = true;
    if (obj.key == Journal::run_key_of(run)) runs[run].journaled = true;
    if (obj.key.rfind(Journal::prefix_of(run) + "shard-", 0) == 0 && obj.key.ends_with("/run.json"))
      runs[run].shard_journals.push_back(obj.key);
    if (is_fragment_key(run, obj.key)) runs[run].fragments.push_back(obj.key);
  }
  for (auto& obj : all) {
    const auto slash = obj.key.find('/');
    if (slash == std::string::npos) continue;
    auto it = runs.find(obj.key.substr(0, slash));
    if (it != runs.end()) it->second.objects.push_back(std::move(obj));
  }
  return runs;
}

std::string objects_text(const RunFolder& folder) {
  std::uint64_t bytes = 0;
  for (const auto& obj : folder.objects) bytes += obj.size;
  return std::to_string(folder.objects.size()) + " objects, " + format_size(bytes);
}

// An abandoned run, single-process or sharded: its uploads, its objects, then its journals
// (run.json last).
void remove_run(Store& store, const std::string& run, const RunFolder& folder, Logger& log) {
  for (const auto& u : store.pending_uploads(run + "/")) store.abort_upload(u);
  for (const auto& obj : folder.objects)
    if (obj.key.rfind(Journal::prefix_of(run), 0) != 0) store.remove(obj.key);
  Journal(store, run, log).remove_listed(folder.objects);
  store.drop_empty_prefix(run + "/");
}

// The newest sign of life of a sharded run (a shard's journal or fragment), in seconds ago;
// nullopt when a shard's lease is still held (a shard is running).
std::optional<double> idle_seconds_of_shards(Store& store, const RunFolder& folder, Logger& log) {
  double idle = 1e18;
  auto seen = [&](const std::string& at) {
    const double age = seconds_since(at);
    if (age >= 0) idle = std::min(idle, age);
  };
  for (const auto& key : folder.shard_journals) {
    const auto text = store.get_small(key);
    if (!text) continue;
    try {
      const auto record = nlohmann::ordered_json::parse(*text);
      if (!lease_expired(lease_from_json(record))) return std::nullopt;
      seen(record.value("updated_at", ""));
    } catch (const std::exception& e) {
      log.warn("a shard journal cannot be read; counting the run as active", {{"journal", store.url_of(key)}, {"error", e.what()}});
      return std::nullopt;
    }
  }
  for (const auto& key : folder.fragments)
    if (const auto text = store.get_small(key)) {
      try {
        seen(nlohmann::ordered_json::parse(*text).value("created_at", ""));
      } catch (const std::exception&) {
      }
    }
  return idle;
}

}  // namespace

std::vector<GcItem> collect_garbage(Store& store, const GcOptions& options, Logger& log) {
  std::vector<GcItem> items;
  std::set<std::string> abandoned;
  for (const auto& [run, folder] : find_runs(store)) {
    const bool sharded = !folder.shard_journals.empty() || !folder.fragments.empty();
    if (sharded && folder.published) {
      // Committed: the fragments and shard journals commit or the shards could not remove.
      items.push_back({GcItem::Kind::PublishedJournal, store.url_of(run + "/_shards/"),
                       "the run is committed; " + std::to_string(folder.fragments.size()) + " fragment(s) and " +
                           std::to_string(folder.shard_journals.size()) + " shard journal(s) left"});
      if (options.remove) {
        for (const auto& key : folder.fragments) store.remove(key);
        Journal(store, run, log).remove_listed(folder.objects);
        store.drop_empty_prefix(run + "/_shards/");
        store.drop_empty_prefix(Journal::prefix_of(run));
      }
      continue;
    }
    if (sharded && !folder.journaled) {
      const auto idle = idle_seconds_of_shards(store, folder, log);
      if (!idle || *idle < options.older_than_seconds) continue;
      items.push_back({GcItem::Kind::AbandonedRun, store.url_of(run),
                       "sharded, never committed: " + std::to_string(folder.fragments.size()) + " fragment(s), " +
                           objects_text(folder)});
      abandoned.insert(run);
      if (options.remove) remove_run(store, run, folder, log);
      continue;
    }
    if (!folder.journaled) continue;
    if (folder.published) {
      items.push_back({GcItem::Kind::PublishedJournal, store.url_of(Journal::prefix_of(run)), "the run is published"});
      if (options.remove) {
        Journal(store, run, log).remove_listed(folder.objects);
        store.drop_empty_prefix(Journal::prefix_of(run));
      }
      continue;
    }
    Journal journal(store, run, log);
    std::optional<nlohmann::ordered_json> record;
    try {
      record = journal.read_run();
    } catch (const std::exception& e) {
      log.warn("skipping a run whose journal cannot be read", {{"run", store.url_of(run)}, {"error", e.what()}});
      continue;
    }
    if (!record) continue;
    const Lease lease = lease_from_json(*record);
    const double age = seconds_since(record->value("updated_at", ""));
    // A held lease that has not expired is a running export; a young run may be resumed soon.
    if (!lease_expired(lease) || (age >= 0 && age < options.older_than_seconds)) continue;
    items.push_back({GcItem::Kind::AbandonedRun, store.url_of(run),
                     "unpublished, last written " + record->value("updated_at", std::string("?")) + ", " + objects_text(folder)});
    abandoned.insert(run);
    if (options.remove) remove_run(store, run, folder, log);
  }
  for (const auto& u : store.pending_uploads("")) {
    const auto slash = u.key.find('/');
    if (slash != std::string::npos && abandoned.count(u.key.substr(0, slash))) continue;  // went with its run
    const double age = seconds_since(u.initiated);
    if (age >= 0 && age < options.older_than_seconds) continue;
    items.push_back({GcItem::Kind::Upload, store.url_of(u.key), "upload started " + u.initiated});
    if (options.remove) store.abort_upload(u);
  }
  return items;
}

}  // namespace splitship
