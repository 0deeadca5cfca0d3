// The journal of an export: small JSON objects kept beside the run in the store
// (RUN_ID/_journal/), so any machine can resume an interrupted run. Layout: docs/manifest.md.
//   run.json                  settings, input fingerprint, and the lease (who is writing now)
//   stats.json                each split's document count and checksum, for a resume to compare
//   done/SPLIT/NNNNN.json     a finished part file: its manifest entry and row range
//   uploads/SPLIT/NNNNN.json  a part file being uploaded: row range, upload id, parts sent
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "splitship/log.hpp"
#include "splitship/manifest.hpp"
#include "splitship/store.hpp"

namespace splitship {

// Where a part file sits in its split: the split's rows with staging row ids in [begin, end),
// `rows` of them.
struct PartSlot {
  std::string split;
  std::size_t index = 0;
  std::uint64_t begin = 0, end = 0;
  std::uint64_t rows = 0;
};

struct JournalDone {
  PartSlot slot;
  FileEntry file;
};

struct JournalUpload {
  PartSlot slot;
  std::string path;  // relative to the run, as in the manifest
  // The record also lists the parts sent; a resume asks the server instead (ListParts), and
  // reuses a part only if its ETag is the MD5 of the bytes produced now.
  UploadToResume upload;
};

// Who holds a run: refreshed by a heartbeat while an export runs, cleared when it stops.
struct Lease {
  std::string attempt, host, heartbeat_at;
  long pid = 0;
  bool held() const { return !attempt.empty(); }
};

class Journal {
 public:
  Journal(Store& store, std::string run_id, Logger& log);
  // A journal elsewhere than RUN_ID/_journal/: each shard of a sharded export has its own.
  Journal(Store& store, std::string run_id, Logger& log, std::string prefix);

  static std::string prefix_of(const std::string& run_id) { return run_id + "/_journal/"; }
  static std::string run_key_of(const std::string& run_id) { return prefix_of(run_id) + "run.json"; }
  std::string run_key() const { return prefix_ + "run.json"; }
  std::string url() const { return store_.url_of(prefix_); }
  const std::string& prefix() const { return prefix_; }

  // run.json, or nullopt when the run has no journal. Throws Error(Input) when unreadable.
  std::optional<nlohmann::ordered_json> read_run() const;
  // Creates run.json only if absent (the first of two racing exports wins); false if it existed.
  bool create_run(const nlohmann::ordered_json& run);
  void write_run(const nlohmann::ordered_json& run);
  // Refreshes the lease in run.json (the heartbeat), or clears it.
  void heartbeat();
  void release();

  std::optional<std::map<std::string, nlohmann::ordered_json>> read_stats() const;
  void write_stats(const std::map<std::string, nlohmann::ordered_json>& stats);

  std::vector<JournalDone> read_done() const;
  std::vector<JournalUpload> read_uploads() const;
  // A part file was committed: its record replaces the upload's.
  void record_done(const JournalDone& done);
  void forget_done(const JournalDone& done);
  void forget_upload(const PartSlot& slot);
  // Journals an upload's id and each part as it is sent, so a later run can continue it.
  std::unique_ptr<UploadObserver> observe_upload(const PartSlot& slot, const std::string& path);

  // Removes every journal object of the run (listing them).
  void remove_all();
  // The same, from a listing the caller already has (gc), plus what this process wrote.
  void remove_listed(const std::vector<ObjectInfo>& objects);
  // Writes a journal object (and remembers it, for removal without a listing).
  void put(const std::string& key, const std::string& text);

 private:
  std::string done_key(const PartSlot& slot) const;
  std::string upload_key(const PartSlot& slot) const;
  nlohmann::ordered_json parse(const std::string& key, const std::string& text) const;
  void track(const std::string& key);

  Store& store_;
  std::string run_id_;
  std::string prefix_;
  Logger& log_;
  mutable std::mutex run_mutex_;  // run.json is written by the heartbeat and the export
  nlohmann::ordered_json run_;
  std::mutex written_mutex_;
  std::set<std::string> written_;  // keys this process wrote
};

Lease lease_from_json(const nlohmann::ordered_json& run);
nlohmann::ordered_json lease_to_json(const Lease& lease);
// The lease of this process, heartbeat now.
Lease current_lease(const std::string& attempt);
// True when the holder is this machine's process that no longer exists, or was last heard
// from longer ago than kLeaseExpiry.
bool lease_expired(const Lease& lease);
// Seconds since an ISO 8601 UTC time such as "2026-11-24T03:34:11.381Z"; -1 if unreadable.
double seconds_since(const std::string& iso8601);
// Seconds since the last heartbeat (negative if unreadable).
double lease_age_seconds(const Lease& lease);
inline constexpr double kLeaseExpirySeconds = 120;
inline constexpr double kHeartbeatSeconds = 20;

}  // namespace splitship
