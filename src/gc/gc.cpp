#include "splitship/gc.hpp"

#include <map>
#include <set>

#include "export/journal.hpp"
#include "splitship/manifest.hpp"
#include "splitship/size.hpp"

namespace splitship {
namespace {

struct RunFolder {
  bool published = false;
  bool journaled = false;
  std::vector<ObjectInfo> objects;
};

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
  }
  for (auto& obj : all) {
    const auto slash = obj.key.find('/');
    if (slash == std::string::npos) continue;
    auto it = runs.find(obj.key.substr(0, slash));
    if (it != runs.end()) it->second.objects.push_back(std::move(obj));
  }
  return runs;
}

}  // namespace

std::vector<GcItem> collect_garbage(Store& store, const GcOptions& options, Logger& log) {
  std::vector<GcItem> items;
  std::set<std::string> abandoned;
  for (const auto& [run, folder] : find_runs(store)) {
    if (!folder.journaled) continue;
    if (folder.published) {
      items.push_back({GcItem::Kind::PublishedJournal, store.url_of(Journal::prefix_of(run)), "the run is published"});
      if (options.remove) Journal(store, run, log).remove_listed(folder.objects);
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
    std::uint64_t bytes = 0;
    for (const auto& obj : folder.objects) bytes += obj.size;
    items.push_back({GcItem::Kind::AbandonedRun, store.url_of(run),
                     "unpublished, last written " + record->value("updated_at", std::string("?")) + ", " +
                         std::to_string(folder.objects.size()) + " objects, " + format_size(bytes)});
    abandoned.insert(run);
    if (!options.remove) continue;
    for (const auto& u : store.pending_uploads(run + "/")) store.abort_upload(u);
    for (const auto& obj : folder.objects)
      if (obj.key.rfind(Journal::prefix_of(run), 0) != 0) store.remove(obj.key);
    journal.remove_listed(folder.objects);
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
