#include "export/journal.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <set>

#include "splitship/error.hpp"

namespace splitship {
namespace {

using json = nlohmann::ordered_json;

std::string this_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

std::string slot_name(const PartSlot& slot) {
  char index[16];
  std::snprintf(index, sizeof index, "%05zu", slot.index);
  return slot.split + "/" + index + ".json";
}

json slot_to_json(const PartSlot& slot) {
  return {{"split", slot.split}, {"index", slot.index}, {"begin", slot.begin}, {"end", slot.end}, {"rows", slot.rows}};
}

PartSlot slot_from_json(const json& j) {
  return PartSlot{j.at("split").get<std::string>(), j.at("index").get<std::size_t>(), j.at("begin").get<std::uint64_t>(),
                  j.at("end").get<std::uint64_t>(), j.at("rows").get<std::uint64_t>()};
}

// Writes each change of one upload's record in order: part callbacks arrive from upload
// threads, so the record is rewritten under a lock with every part known so far.
class JournalingObserver final : public UploadObserver {
 public:
  JournalingObserver(Journal& journal, std::string key, const PartSlot& slot, std::string path, Logger& log)
      : journal_(journal), key_(std::move(key)), log_(log) {
    record_ = {{"slot", slot_to_json(slot)}, {"path", std::move(path)}, {"upload_id", ""}, {"part_size", 0},
               {"parts", json::array()}};
  }
  void upload_started(const std::string& upload_id, std::uint64_t part_size) override {
    std::lock_guard lock(mutex_);
    record_["upload_id"] = upload_id;
    record_["part_size"] = part_size;
    write();
  }
  void part_uploaded(int number, std::uint64_t size, const std::string& md5_hex) override {
    std::lock_guard lock(mutex_);
    record_["parts"].push_back({{"number", number}, {"size", size}, {"md5", md5_hex}});
    write();
  }

 private:
  // A journal write that fails costs only resumability (the upload is re-sent), never the export.
  void write() noexcept {
    try {
      journal_.put(key_, record_.dump());
    } catch (const std::exception& e) {
      log_.warn("could not journal an upload's progress; a resume would send it again",
                {{"journal", key_}, {"error", e.what()}});
    }
  }
  Journal& journal_;
  std::string key_;
  Logger& log_;
  std::mutex mutex_;
  json record_;
};

}  // namespace

Journal::Journal(Store& store, std::string run_id, Logger& log)
    : store_(store), run_id_(std::move(run_id)), prefix_(prefix_of(run_id_)), log_(log) {}

Journal::Journal(Store& store, std::string run_id, Logger& log, std::string prefix)
    : store_(store), run_id_(std::move(run_id)), prefix_(std::move(prefix)), log_(log) {}

json Journal::parse(const std::string& key, const std::string& text) const {
  try {
    return json::parse(text);
  } catch (const std::exception& e) {
    fail(ErrorKind::Input, "the journal object " + store_.url_of(key) + " is not valid JSON: " + e.what(),
         "start over with --overwrite, or remove the run with `splitship gc`");
  }
}

std::optional<json> Journal::read_run() const {
  // HEAD first: a new run (the usual case) costs no GET.
  if (!store_.head(run_key())) return std::nullopt;
  auto text = store_.get_small(run_key());
  if (!text) return std::nullopt;
  json run = parse(run_key(), *text);
  if (!run.is_object() || run.value("format", "") != "splitship-journal" || !run.contains("config"))
    fail(ErrorKind::Input, store_.url_of(run_key()) + " is not a splitship journal",
         "start over with --overwrite, or choose another --run-id");
  return run;
}

bool Journal::create_run(const json& run) {
  std::lock_guard lock(run_mutex_);
  run_ = run;
  run_["updated_at"] = utc_now_iso8601();
  track(run_key());
  return store_.put_if_absent(run_key(), run_.dump(2));
}

void Journal::track(const std::string& key) {
  std::lock_guard lock(written_mutex_);
  written_.insert(key);
}

void Journal::put(const std::string& key, const std::string& text) {
  track(key);
  store_.put_replace(key, text);
}

void Journal::write_run(const json& run) {
  std::lock_guard lock(run_mutex_);
  run_ = run;
  run_["updated_at"] = utc_now_iso8601();
  put(run_key(), run_.dump(2));
}

void Journal::heartbeat() {
  std::lock_guard lock(run_mutex_);
  if (!run_.contains("lease") || !run_["lease"].is_object()) return;
  run_["lease"]["heartbeat_at"] = utc_now_iso8601();
  run_["updated_at"] = run_["lease"]["heartbeat_at"];
  store_.put_replace(run_key(), run_.dump(2));
}

void Journal::release() {
  std::lock_guard lock(run_mutex_);
  if (run_.is_null()) return;
  run_["lease"] = nullptr;
  run_["updated_at"] = utc_now_iso8601();
  store_.put_replace(run_key(), run_.dump(2));
}

std::optional<std::map<std::string, json>> Journal::read_stats() const {
  const std::string key = prefix_ + "stats.json";
  auto text = store_.get_small(key);
  if (!text) return std::nullopt;
  const json j = parse(key, *text);
  std::map<std::string, json> out;
  for (const auto& [name, value] : j.items()) out[name] = value;
  return out;
}

void Journal::write_stats(const std::map<std::string, json>& stats) {
  json j = json::object();
  for (const auto& [name, value] : stats) j[name] = value;
  put(prefix_ + "stats.json", j.dump(2));
}

std::string Journal::done_key(const PartSlot& slot) const { return prefix_ + "done/" + slot_name(slot); }
std::string Journal::upload_key(const PartSlot& slot) const { return prefix_ + "uploads/" + slot_name(slot); }

std::vector<JournalDone> Journal::read_done() const {
  std::vector<JournalDone> out;
  for (const auto& obj : store_.list(prefix_ + "done/")) {
    auto text = store_.get_small(obj.key);
    if (!text) continue;  // removed since the listing
    const json j = parse(obj.key, *text);
    try {
      out.push_back(JournalDone{slot_from_json(j.at("slot")), file_entry_from_json(j.at("file"))});
    } catch (const std::exception& e) {
      fail(ErrorKind::Input, "the journal object " + store_.url_of(obj.key) + " is incomplete: " + e.what(),
           "start over with --overwrite");
    }
  }
  return out;
}

std::vector<JournalUpload> Journal::read_uploads() const {
  std::vector<JournalUpload> out;
  for (const auto& obj : store_.list(prefix_ + "uploads/")) {
    auto text = store_.get_small(obj.key);
    if (!text) continue;
    const json j = parse(obj.key, *text);
    try {
      JournalUpload u;
      u.slot = slot_from_json(j.at("slot"));
      u.path = j.at("path");
      u.upload.upload_id = j.at("upload_id");
      u.upload.part_size = j.at("part_size");
      out.push_back(std::move(u));
    } catch (const std::exception& e) {
      fail(ErrorKind::Input, "the journal object " + store_.url_of(obj.key) + " is incomplete: " + e.what(),
           "start over with --overwrite");
    }
  }
  return out;
}

void Journal::record_done(const JournalDone& done) {
  const json j = {{"slot", slot_to_json(done.slot)}, {"file", file_entry_to_json(done.file)}};
  track(done_key(done.slot));
  store_.put_record(done_key(done.slot), j.dump(2));
  forget_upload(done.slot);
}

void Journal::forget_done(const JournalDone& done) { store_.remove(done_key(done.slot)); }
void Journal::forget_upload(const PartSlot& slot) { store_.remove(upload_key(slot)); }

std::unique_ptr<UploadObserver> Journal::observe_upload(const PartSlot& slot, const std::string& path) {
  return std::make_unique<JournalingObserver>(*this, upload_key(slot), slot, path, log_);
}

void Journal::remove_all() {
  // The listing adds what earlier processes wrote. After Ctrl-C it is refused (only deletes
  // still go out): what this process wrote is then all we can remove.
  std::vector<ObjectInfo> listed;
  try {
    listed = store_.list(prefix_);
  } catch (const std::exception& e) {
    log_.debug("could not list the journal; removing what this process wrote", {{"error", e.what()}});
  }
  remove_listed(listed);
}

void Journal::remove_listed(const std::vector<ObjectInfo>& objects) {
  std::set<std::string> keys;
  {
    std::lock_guard lock(written_mutex_);
    keys = written_;
  }
  for (const auto& obj : objects)
    if (obj.key.rfind(prefix_, 0) == 0) keys.insert(obj.key);
  // run.json last: while it exists, the run is still known to be unfinished.
  for (const auto& key : keys)
    if (key != run_key()) store_.remove(key);
  store_.remove(run_key());
}

Lease lease_from_json(const json& run) {
  Lease lease;
  if (!run.contains("lease") || !run["lease"].is_object()) return lease;
  const json& l = run["lease"];
  lease.attempt = l.value("attempt", "");
  lease.host = l.value("host", "");
  lease.pid = l.value("pid", 0L);
  lease.heartbeat_at = l.value("heartbeat_at", "");
  return lease;
}

json lease_to_json(const Lease& lease) {
  if (!lease.held()) return nullptr;
  return {{"attempt", lease.attempt}, {"host", lease.host}, {"pid", lease.pid}, {"heartbeat_at", lease.heartbeat_at}};
}

Lease current_lease(const std::string& attempt) {
  return Lease{attempt, this_host(), utc_now_iso8601(), static_cast<long>(::getpid())};
}

double seconds_since(const std::string& iso8601) {
  std::tm tm{};
  if (!strptime(iso8601.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return -1;
  return std::difftime(std::time(nullptr), timegm(&tm));
}

double lease_age_seconds(const Lease& lease) { return seconds_since(lease.heartbeat_at); }

// A killed process may linger as a zombie until its parent reaps it: it is gone all the same.
bool process_alive(long pid) {
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto paren = line.rfind(')');
  return !(paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z');
}

bool lease_expired(const Lease& lease) {
  if (!lease.held()) return true;
  // On this machine a dead holder is known at once; elsewhere only by its silence.
  if (lease.host == this_host() && lease.pid > 0 && !process_alive(lease.pid)) return true;
  const double age = lease_age_seconds(lease);
  return age < 0 || age > kLeaseExpirySeconds;
}

}  // namespace splitship
