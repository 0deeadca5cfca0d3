// The export pipeline. One read of the source: DuckDB scans the inputs once into staging
// tables (split index and per-document length computed in that scan); stats and Parquet
// parts come from the staging tables, never from the source again. Each part streams from
// DuckDB's COPY through a named pipe into the hashes and the store (export/part_sink.hpp).
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "export/journal.hpp"
#include "export/part_committer.hpp"
#include "export/part_sink.hpp"
#include "util/task_pool.hpp"
#include "splitship/error.hpp"
#include "splitship/export.hpp"
#include "splitship/fs.hpp"
#include "splitship/size.hpp"
#include "splitship/store.hpp"

namespace splitship {
namespace {

using json = nlohmann::ordered_json;
constexpr const char* kLenCol = "__splitship_len";
constexpr const char* kSplitCol = "__splitship_split";
constexpr const char* kHashCol = "__splitship_h";
// The staging table's rowid, exposed by each split's view: parts are rowid ranges.
constexpr const char* kRowCol = "__splitship_row";

// ---- scratch space --------------------------------------------------------------------
class WorkDir {
 public:
  explicit WorkDir(const std::string& parent) {
    std::string base = parent;
    if (base.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      base = tmp && *tmp ? tmp : "/tmp";
    }
    std::string templ = base + "/splitship-XXXXXX";
    if (!::mkdtemp(templ.data()))
      fail(ErrorKind::Usage, "cannot create a work folder in " + base + ": " + errno_text(errno),
           "pass --work-dir with a writable folder");
    path_ = templ;
  }
  ~WorkDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---- progress and cancellation --------------------------------------------------------
struct SplitCounters {
  std::string name;
  std::uint64_t rows_total = 0;
  bool rows_known = true;  // false while streamed: the total is known at the split's end
  std::atomic<std::uint64_t> rows_done{0}, bytes_done{0}, parts_done{0};
};

// Owns the one helper thread of an export: every 100 ms it renders progress and, when
// cancellation was requested, interrupts the running DuckDB query.
class Monitor {
 public:
  Monitor(DuckDb& db, ProgressListener* listener, CancelToken& cancel)
      : db_(db), listener_(listener), cancel_(cancel), start_(std::chrono::steady_clock::now()) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Monitor() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
    if (listener_) listener_->finish();
  }
  void set_phase(const std::string& phase) {
    std::lock_guard lock(mutex_);
    phase_ = phase;
  }
  void track(std::vector<std::unique_ptr<SplitCounters>>* splits) {
    std::lock_guard lock(mutex_);
    splits_ = splits;
  }
  // Fills in what only the caller knows (a streamed export's rows so far); null to stop.
  void refine(std::function<void(ProgressSnapshot&)> refine) {
    std::lock_guard lock(mutex_);
    refine_ = std::move(refine);
  }
  // Called every `every` seconds from the monitor thread (the journal's lease heartbeat).
  void every(double seconds, std::function<void()> task) {
    std::lock_guard lock(mutex_);
    periodic_ = std::move(task);
    period_ = std::chrono::duration<double>(seconds);
    last_periodic_ = std::chrono::steady_clock::now();
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      wake_.wait_for(lock, std::chrono::milliseconds(100));
      if (stop_) break;
      if (cancel_.cancelled()) db_.interrupt();
      if (listener_) listener_->update(snapshot());
      if (periodic_ && std::chrono::steady_clock::now() - last_periodic_ >= period_) {
        last_periodic_ = std::chrono::steady_clock::now();
        auto task = periodic_;
        lock.unlock();  // the task may wait on the network; progress must not
        task();
        lock.lock();
      }
    }
  }
  ProgressSnapshot snapshot() {
    ProgressSnapshot s;
    s.phase = phase_;
    s.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (phase_ == "reading") s.phase_fraction = db_.progress() / 100.0;
    if (splits_)
      for (const auto& c : *splits_)
        s.splits.push_back({c->name, c->rows_total, c->rows_done.load(), c->bytes_done.load(), c->parts_done.load(), c->rows_known});
    if (refine_) refine_(s);
    return s;
  }

  DuckDb& db_;
  ProgressListener* listener_;
  CancelToken& cancel_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::string phase_ = "reading";
  std::vector<std::unique_ptr<SplitCounters>>* splits_ = nullptr;
  std::function<void()> periodic_;
  std::function<void(ProgressSnapshot&)> refine_;
  std::chrono::duration<double> period_{0};
  std::chrono::steady_clock::time_point last_periodic_;
  std::thread thread_;
};

// ---- what the input looks like --------------------------------------------------------
struct InputShape {
  std::vector<std::string> columns;
  bool has_messages = false;       // messages: list of struct with role and content
  bool has_message_roles = false;  // messages: list of struct with role
  bool has_text = false;
  bool has_role = false;
};

InputShape describe_relation(DuckDbConnection& db, const std::string& relation) {
  InputShape shape;
  QueryResult r = db.query("SELECT * FROM " + relation + " LIMIT 0");
  for (std::uint64_t c = 0; c < r.columns(); ++c) {
    const std::string name = r.column_name(c);
    shape.columns.push_back(name);
    if (name == "messages") {
      shape.has_messages = r.is_list_of_struct_with(c, {"role", "content"});
      shape.has_message_roles = r.is_list_of_struct_with(c, {"role"});
    }
    if (name == "text") shape.has_text = true;
    if (name == "role") shape.has_role = true;
  }
  return shape;
}

std::string column_list(const std::vector<std::string>& cols) {
  std::string out;
  for (std::size_t i = 0; i < cols.size() && i < 20; ++i) out += (i ? ", " : "") + cols[i];
  if (cols.size() > 20) out += ", …";
  return out;
}

void require_column(const InputShape& shape, const std::string& column, const std::string& option) {
  for (const auto& c : shape.columns)
    if (c == column) return;
  fail(ErrorKind::Usage, option + " '" + column + "' is not a column of the input",
       "columns are: " + column_list(shape.columns));
}

struct LengthSource {
  std::string sql;
  std::string description;  // for the manifest's settings
};

LengthSource length_source(const ExportConfig& cfg, const InputShape& shape) {
  if (!cfg.length_expr.empty())
    return {"CAST((" + cfg.length_expr + ") AS BIGINT)", "expr: " + cfg.length_expr};
  // BIGINT, not list_sum's HUGEINT: a quantile over HUGEINT costs several times more.
  if (shape.has_messages)
    return {"CAST(coalesce(list_sum(list_transform(\"messages\", m -> coalesce(length(CAST(m.content AS VARCHAR)), 0))), 0) AS BIGINT)",
            "messages[].content characters"};
  if (shape.has_text) return {"coalesce(length(CAST(\"text\" AS VARCHAR)), 0)", "text characters"};
  return {"CAST(0 AS BIGINT)", "none"};
}

// ---- the export ----------------------------------------------------------------------
struct StagedSplit {
  std::string name;
  std::string table;   // the split's view: rows of `source` where `key` is `key_text`
  std::string source;  // the staging table
  std::string key;     // SQL over `source` telling the split of a row, as text
  std::string key_text;
};

class Exporter {
 public:
  Exporter(const ExportConfig& cfg, Logger& log, ProgressListener* progress, CancelToken& cancel)
      : cfg_(cfg), log_(log), progress_(progress), cancel_(cancel) {}

  ExportResult run() {
    validate_config();
    run_id_ = cfg_.run_id.empty() ? make_run_id() : cfg_.run_id;
    validate_run_id(run_id_);
    store_ = open_store(parse_store_location(cfg_.dest), StoreContext{&cfg_.s3, &log_, &cancel_});
    // The probe first: it answers with the store's own error (bad keys, no bucket) where a
    // HEAD of the manifest could only say "403".
    store_->check_writable(run_id_);
    refuse_published_run();
    if (cfg_.sharded() && store_->head(fragment_key())) {
      log_.info("this shard is already done", {{"fragment", store_->url_of(fragment_key())}});
      ExportResult done;
      done.run_url = run_url();
      done.store = store_->stats();
      done.fragment_url = store_->url_of(fragment_key());
      done.already_done = true;
      return done;
    }
    resolve_sources();
    if (cfg_.sharded()) slice_sources();
    if (cfg_.sharded())
      journal_.emplace(*store_, run_id_, log_, shard_journal_prefix(run_id_, cfg_.shard_index, cfg_.shard_count));
    else
      journal_.emplace(*store_, run_id_, log_);
    open_journal();

    try {
      return export_all();
    } catch (...) {
      clean_up_after_failure();
      throw;
    }
  }

 private:
  std::string manifest_key() const { return run_id_ + "/" + kManifestName; }
  std::string run_url() const { return store_->url() + "/" + run_id_; }

  // ---- the journal: what a resume needs --------------------------------------------------
  json run_record() const {
    return {{"format", "splitship-journal"},
            {"version", 1},
            {"run_id", run_id_},
            {"created_at", utc_now_iso8601()},
            {"tool_version", tool_version()},
            {"config", export_config_to_json(cfg_)},
            {"source", source_fingerprint()},
            {"lease", lease_to_json(current_lease(attempt_id_))}};
  }

  // Creates the journal of a new run, or takes over the one an interrupted run left.
  void open_journal() {
    std::optional<json> existing = journal_->read_run();
    if (existing && cfg_.overwrite) {
      refuse_live_run(*existing);
      discard_unpublished_run();
      existing.reset();
    }
    if (!existing) {
      if (journal_->create_run(run_record())) {
        journal_owned_ = true;
        return;
      }
      existing = journal_->read_run();  // another export created it first
      if (!existing) fail(ErrorKind::Destination, "the journal of run " + run_id_ + " appeared and vanished", "run again");
    }
    refuse_live_run(*existing);
    refuse_other_settings(*existing);
    refuse_changed_source(*existing);
    json run = run_record();
    run["created_at"] = existing->value("created_at", run["created_at"].get<std::string>());
    journal_->write_run(run);
    journal_owned_ = true;
    resume_.resumed = true;
    load_resumable_work();
  }

  void refuse_live_run(const json& run) const {
    const Lease lease = lease_from_json(run);
    if (lease_expired(lease)) return;
    fail(ErrorKind::Destination,
         "run " + run_id_ + " is being exported by another process (pid " + std::to_string(lease.pid) + " on " +
             lease.host + ", last heard from " + std::to_string(static_cast<long>(lease_age_seconds(lease))) + " s ago)",
         "wait for it to finish, or choose another --run-id; a run whose process died elsewhere can be resumed " +
             std::to_string(static_cast<int>(kLeaseExpirySeconds)) + " s after its last heartbeat");
  }

  void refuse_other_settings(const json& run) const {
    const auto change = describe_config_change(run.at("config"), export_config_to_json(cfg_));
    if (!change) return;
    fail(ErrorKind::Usage, "run " + run_id_ + " was started with other settings: " + *change,
         "continue it with `splitship resume " + run_url() + "` (it reuses them), or start over with --overwrite");
  }

  void refuse_changed_source(const json& run) const {
    const json then = run.value("source", json::object());
    const json now = source_fingerprint();
    if (then == now) return;
    fail(ErrorKind::Input, "the input changed since run " + run_id_ + " was interrupted: " + describe_source_change(then, now),
         "restore the input, or start over with --overwrite");
  }

  static std::string describe_source_change(const json& then, const json& now) {
    std::map<std::string, json> before, after;
    for (const auto& f : then.value("files", json::array())) before[f.value("path", "")] = f;
    for (const auto& f : now.value("files", json::array())) after[f.value("path", "")] = f;
    for (const auto& [path, f] : after) {
      auto it = before.find(path);
      if (it == before.end()) return path + " is new";
      if (it->second != f) return path + " was modified (size or modification time)";
    }
    for (const auto& [path, f] : before)
      if (!after.count(path)) return path + " is gone";
    return "the file list differs";
  }

  // Size and modification time of every input file (resolved paths are absolute): what a
  // resume compares.
  json source_fingerprint() const {
    json files = json::array();
    auto add = [&](const InputSet& set) {
      for (const auto& f : set.files) files.push_back({{"path", f.path}, {"size", f.size}, {"mtime_ns", f.mtime_ns}});
    };
    add(inputs_);
    for (const auto& [name, set] : per_input_sets_) add(set);
    return {{"files", files}};
  }

  // With --overwrite an unpublished run's leftovers go: its uploads and its journal. (Its part
  // files go with the published run's, in unpublish_previous_run, once the new input staged.)
  void discard_unpublished_run() {
    log_.info("--overwrite: discarding the journal of an unfinished run", {{"run_id", run_id_}});
    abort_pending_uploads({});
    journal_->remove_all();
  }

  void abort_pending_uploads(const std::set<std::string>& keep_upload_ids) {
    for (const auto& u : store_->pending_uploads(run_id_ + "/"))
      if (!keep_upload_ids.count(u.upload_id) && upload_owned_by_this_export(u.key)) store_->abort_upload(u);
  }

  // Reads what the interrupted run finished or left in flight, keeps what the store confirms
  // and removes the rest, so the run folder holds only what the journal lists.
  void load_resumable_work() {
    for (auto& d : journal_->read_done()) {
      const auto head = store_->head(run_id_ + "/" + d.file.path);
      const bool intact = head && head->size == d.file.size && (head->etag.empty() || d.file.etag.empty() || head->etag == d.file.etag);
      if (!intact) {
        warn("journaled part " + d.file.path + " is " + (head ? "not what was written" : "missing") + "; it is written again");
        journal_->forget_done(d);
        continue;
      }
      done_[{d.slot.split, d.slot.index}] = std::move(d);
    }
    std::set<std::string> live_uploads;
    for (auto& u : journal_->read_uploads()) {
      if (done_.count({u.slot.split, u.slot.index}) || u.upload.upload_id.empty()) {
        journal_->forget_upload(u.slot);
        continue;
      }
      live_uploads.insert(u.upload.upload_id);
      uploads_[{u.slot.split, u.slot.index}] = std::move(u);
    }
    std::set<std::string> kept;
    for (const auto& [slot, d] : done_) kept.insert(run_id_ + "/" + d.file.path);
    for (const auto& obj : store_->list(run_id_ + "/"))
      if (!kept.count(obj.key) && owned_by_this_export(obj.key)) store_->remove(obj.key);
    abort_pending_uploads(live_uploads);
    log_.info("resuming", {{"run_id", run_id_}, {"part_files_done", std::to_string(done_.size())},
                           {"uploads_to_continue", std::to_string(uploads_.size())}});
  }

  bool is_journal_key(const std::string& key) const { return key.rfind(Journal::prefix_of(run_id_), 0) == 0; }

  // Uploads a resume may abort: everything under the run (a killed run's half-written journal
  // records included), or for a shard its own parts and its own journal's.
  bool upload_owned_by_this_export(const std::string& key) const {
    return !cfg_.sharded() || owned_by_this_export(key) || key.rfind(journal_->prefix(), 0) == 0;
  }

  // What a resume may clean up: the whole run but its journals, or for a shard only its own
  // part files (other shards' parts, journals and fragments are theirs).
  bool owned_by_this_export(const std::string& key) const {
    if (is_journal_key(key)) return false;
    if (!cfg_.sharded()) return true;
    char own[32];
    std::snprintf(own, sizeof own, "part-%05d-", cfg_.shard_index);
    const auto name = key.substr(key.rfind('/') + 1);
    return name.rfind(own, 0) == 0;
  }

  // The stats of a resumed run must equal the interrupted run's: same rows, same splits.
  void check_or_record_stats(const std::vector<SplitEntry>& entries) {
    std::map<std::string, json> now;
    for (const auto& e : entries) now[e.name] = {{"num_documents", e.stats.num_documents}, {"checksum", e.checksum}};
    if (resume_.resumed) {
      if (const auto then = journal_->read_stats()) {
        if (*then == now) return;
        fail(ErrorKind::Input, "the input's content changed since run " + run_id_ + " was interrupted: " + describe_stats_change(*then, now),
             "restore the input, or start over with --overwrite");
      }
    }
    journal_->write_stats(now);
  }

  static std::string describe_stats_change(const std::map<std::string, json>& then, const std::map<std::string, json>& now) {
    for (const auto& [name, j] : now) {
      auto it = then.find(name);
      if (it == then.end()) return "split '" + name + "' is new";
      if (it->second != j)
        return "split '" + name + "' had " + it->second.value("num_documents", json(0)).dump() + " documents (" +
               it->second.value("checksum", "") + "), now " + j["num_documents"].dump() + " (" + j["checksum"].get<std::string>() + ")";
    }
    return "a split is gone";
  }

  // On failure: nothing is published. Finished part files stay for a resume; if there are
  // none, the run leaves nothing behind at all.
  void clean_up_after_failure() noexcept {
    try {
      if (lost_publish_race_ || !journal_owned_) {
        remove_written_objects();
        return;
      }
      if (files_done_ == 0 && done_.empty() && uploads_.empty()) {
        // Our own upload was aborted by its writer; what remains is what we wrote.
        remove_written_objects();
        journal_->remove_all();
        return;
      }
      journal_->release();
      log_.warn("nothing was published; " + std::to_string(std::max<std::uint64_t>(files_done_, done_.size())) +
                " finished part file(s) are kept: continue with `splitship resume " + run_url() +
                "`, or remove them with `splitship gc " + store_->url() + " --yes --older-than 0`");
    } catch (const std::exception& e) {
      log_.warn(std::string("could not clean up after the failure: ") + e.what());
    }
  }

  void validate_config() const {
    if (cfg_.shard_count < 1 || cfg_.shard_index < 0 || cfg_.shard_index >= cfg_.shard_count)
      fail(ErrorKind::Usage, "--shard " + std::to_string(cfg_.shard_index) + "/" + std::to_string(cfg_.shard_count) +
                                 " is not a shard", "give I/N with 0 <= I < N");
    if (cfg_.sharded() && cfg_.overwrite)
      fail(ErrorKind::Usage, "--overwrite cannot be combined with --shard: every shard would remove the others' work",
           "remove the run first (or choose another --run-id)");
    if (cfg_.target_file_size < 1024)
      fail(ErrorKind::Usage, "--target-file-size must be at least 1KiB");
    if (cfg_.row_group_size == 0) fail(ErrorKind::Usage, "--row-group-size must be positive");
    if (cfg_.compression != "zstd" && cfg_.compression != "snappy" && cfg_.compression != "none")
      fail(ErrorKind::Usage, "unknown --compression '" + cfg_.compression + "'", "use zstd, snappy or none");
    switch (cfg_.mode) {
      case SplitMode::Hash:
        if (cfg_.split_key.empty()) fail(ErrorKind::Usage, "--split needs --split-key COLUMN");
        if (cfg_.weights.empty()) fail(ErrorKind::Usage, "--split needs at least one NAME=WEIGHT");
        if (cfg_.inputs.empty()) fail(ErrorKind::Usage, "no input given", "pass --input PATH");
        break;
      case SplitMode::Column:
        if (cfg_.inputs.empty()) fail(ErrorKind::Usage, "no input given", "pass --input PATH");
        break;
      case SplitMode::PerInput: {
        if (!cfg_.inputs.empty())
          fail(ErrorKind::Usage, "--split-input and --input do not mix", "give each split its own --split-input NAME=PATH");
        std::set<std::string> names;
        for (const auto& [name, path] : cfg_.split_inputs) {
          validate_split_name(name, "--split-input");
          if (!names.insert(name).second)
            fail(ErrorKind::Usage, "split '" + name + "' is named twice in --split-input", "give each split once");
        }
        break;
      }
    }
  }

  void refuse_published_run() {
    if (!cfg_.overwrite && store_->head(manifest_key()))
      fail(ErrorKind::Destination, "run " + run_id_ + " is already published at " + store_->url_of(manifest_key()),
           "pass --overwrite to replace it, or choose another --run-id");
  }

  ExportResult export_all() {
    if (cfg_.sharded() && shard_slice_is_empty()) return publish_empty_shard();
    WorkDir work(cfg_.work_dir);
    const std::unique_ptr<DuckDb> db = open_work_database(work);
    Monitor monitor(*db, progress_, cancel_);
    monitor.every(kHeartbeatSeconds, [this] { beat(); });
    log_.info("reading input", {{"run_id", run_id_}});
    return cfg_.mode == SplitMode::Hash ? export_streamed(*db, monitor) : export_staged(*db, monitor);
  }

  // --split-column and --split-input: the rows are staged, then each split is written.
  ExportResult export_staged(DuckDb& db, Monitor& monitor) {
    std::vector<StagedSplit> staged = stage(db);
    throw_if_cancelled();
    log_.debug("staged", {{"splits", std::to_string(staged.size())}});

    const std::vector<std::uint64_t> rows = count_rows(db.main(), staged);
    counters_.clear();
    for (std::size_t i = 0; i < staged.size(); ++i) {
      auto c = std::make_unique<SplitCounters>();
      c->name = staged[i].name;
      c->rows_total = rows[i];
      counters_.push_back(std::move(c));
    }
    monitor.track(&counters_);
    db.execute("SET threads = " + std::to_string(write_phase_threads(staged.size())));

    std::vector<SplitEntry> entries;
    std::vector<std::vector<FileEntry>> files(staged.size());
    if (resume_.resumed && journal_->read_stats()) {
      // The interrupted run's stats must match before any of its part files is kept.
      entries = checked_stats(db.main(), staged, rows);
      unpublish_previous_run();
      monitor.set_phase("writing");
      write_splits(db, staged, files, nullptr);
    } else {
      // A fresh run computes its stats beside the Parquet writers, on its own connection:
      // the grouped pass is mostly one thread, and the writers leave room for it.
      unpublish_previous_run();
      monitor.set_phase("writing");
      write_splits(db, staged, files, [&](DuckDbConnection& con) {
        entries = checked_stats(con, staged, rows);
        if (cfg_.sharded()) grids_ = length_grids(con, staged);
      });
    }
    if (cfg_.sharded() && grids_.empty()) grids_ = length_grids(db.main(), staged);
    for (std::size_t i = 0; i < entries.size(); ++i) entries[i].files = std::move(files[i]);

    monitor.set_phase("publishing");
    return finish(build_manifest(std::move(entries)));
  }

  // ---- hash splits: streamed -----------------------------------------------------------------
  // A hash rule names every split before the first row is read, so nothing is staged: one
  // ordered query reads the source and gives each row its split and length, and its rows go
  // straight from DuckDB's result into each split's Parquet writer (and so to the store) and
  // into a narrow table for the stats, all at once (table/RowStream). Uploading starts with the
  // first row group instead of after the whole input has been read, and memory no longer holds
  // a staged copy of the input. Each query runs on one thread of its own: the ordered reading
  // query is one thread in DuckDB anyway, and the writers are one query per split.
  ExportResult export_streamed(DuckDb& db, Monitor& monitor) {
    const InputShape shape = open_source(db, "__src", inputs_);
    const LengthSource len = checked_length_source(db, shape, "__src");
    require_column(shape, cfg_.split_key, "--split-key");
    rule_.emplace(cfg_.weights, cfg_.seed);
    streamed_columns_ = column_types(db.main(), "__src");
    streamed_shape_ = shape;
    input_bytes_per_row_ = sampled_input_bytes_per_row(db);

    const std::size_t splits = cfg_.weights.size();
    std::vector<StagedSplit> staged;
    counters_.clear();
    for (std::size_t i = 0; i < splits; ++i) {
      staged.push_back({cfg_.weights[i].name, "__lane_" + std::to_string(i), "__staged", "CAST(" + std::string(kSplitCol) + " AS VARCHAR)", std::to_string(i)});
      auto c = std::make_unique<SplitCounters>();
      c->name = cfg_.weights[i].name;
      c->rows_known = false;
      counters_.push_back(std::move(c));
    }
    monitor.track(&counters_);
    db.execute("SET threads = 1");
    unpublish_previous_run();
    monitor.set_phase("streaming");

    std::vector<SplitEntry> entries;
    RowStream rows(db.main(), splits, /*tee=*/true);
    // Rows handed to each split so far; the reading's fraction estimated from the input's
    // bytes per row (sampled before reading), as DuckDB gives no progress for a streamed query.
    const double input_rows = static_cast<double>(inputs_.total_bytes()) / input_bytes_per_row_;
    monitor.refine([&rows, input_rows](ProgressSnapshot& s) {
      std::uint64_t read = 0;
      for (std::size_t i = 0; i < s.splits.size() && i < rows.lanes(); ++i) {
        s.splits[i].rows_done = rows.rows_taken(i);
        read += s.splits[i].rows_done;
      }
      s.phase_fraction = std::min(0.99, static_cast<double>(read) / std::max(1.0, input_rows));
    });
    struct Unrefine {
      Monitor& m;
      ~Unrefine() { m.refine(nullptr); }
    } unrefine{monitor};  // before `rows` goes, whatever happens
    std::vector<std::vector<FileEntry>> files(splits);
    std::vector<std::exception_ptr> errors(splits + 2);
    const std::function<void()> stop_everything = [&] {
      stop_writing_ = true;
      rows.close();
      db.interrupt();
    };
    auto guarded = [&](std::size_t slot, const std::function<void(DuckDbConnection&)>& work) {
      return [&, slot, work] {
        try {
          auto con = db.connect();
          work(*con);
        } catch (...) {
          errors[slot] = consequence_or_cause(std::current_exception(), rows.closed());
          stop_everything();
        }
      };
    };
    {
      // Every lane's consumer runs at once, or the reading would wait on the first full lane.
      TaskPool consumers(static_cast<int>(splits + 1));
      // The stats, once the reading is done, while the writers' last parts upload.
      consumers.submit(guarded(1, [&](DuckDbConnection& con) {
        con.execute("CREATE TABLE __staged AS SELECT " + stats_columns_sql(shape) + " FROM " + rows.next_rows_sql(splits, 0));
        entries = compute_stats(con, staged);
        if (cfg_.sharded()) grids_ = length_grids(con, staged);
      }));
      for (std::size_t i = 0; i < splits; ++i)
        consumers.submit(guarded(2 + i, [&, i](DuckDbConnection& con) {
          write_streamed_parts(con, rows, i, staged[i], files[i], *counters_[i], stop_everything);
        }));
      // On the main connection, whose progress the monitor shows.
      try {
        produce_reading(rows, db.main(), streamed_source_sql(len), shape.columns.size() + 1);
        log_.debug("input read");
      } catch (...) {
        errors[0] = std::current_exception();  // "stopped" (Cancelled) when a consumer failed first
        stop_everything();
      }
    }
    rethrow_root_cause(errors, cancel_.cancelled(), kInterrupted);
    throw_if_cancelled();
    log_.debug("read and written", {{"splits", std::to_string(splits)}});

    std::vector<std::uint64_t> written(splits);
    for (std::size_t i = 0; i < splits; ++i) written[i] = rows.rows_taken(i);
    entries = checked(std::move(entries), written);
    for (std::size_t i = 0; i < splits; ++i) entries[i].files = std::move(files[i]);
    monitor.set_phase("publishing");
    return finish(build_manifest(std::move(entries)));
  }

  // A consumer's error once the stream was closed by another's failure is only its echo.
  static std::exception_ptr consequence_or_cause(std::exception_ptr e, bool stream_was_closed) {
    if (!stream_was_closed) return e;
    try {
      std::rethrow_exception(e);
    } catch (const Error& err) {
      if (err.kind() == ErrorKind::Input || err.kind() == ErrorKind::Cancelled)
        return std::make_exception_ptr(Error(ErrorKind::Cancelled, "stopped: another part of the export failed"));
    } catch (...) {
    }
    return e;
  }

  // The reading query: every source column, the row's length, and its split (the last column).
  std::string streamed_source_sql(const LengthSource& len) const {
    return "SELECT * EXCLUDE (" + std::string(kHashCol) + "), CAST(" + rule_->index_sql(kHashCol) + " AS USMALLINT) AS " +
           kSplitCol + " FROM (SELECT *, " + len.sql + " AS " + kLenCol + ", " + rule_->hash_sql(sql_ident(cfg_.split_key)) +
           " AS " + kHashCol + " FROM __src)";
  }

  // What the stats need of a row, and no more: the split, the length, whether each column is
  // null, and the roles of its messages (or its role column).
  static std::string stats_columns_sql(const InputShape& shape) {
    std::string sql = std::string(kSplitCol) + ", " + kLenCol;
    for (const auto& c : shape.columns) {
      const std::string col = sql_ident(c);
      if (c == "messages" && shape.has_message_roles)
        sql += ", list_transform(" + col + ", m -> struct_pack(role := m.role)) AS " + col;
      else if (c == "role" && shape.has_role)
        sql += ", " + col;
      else
        sql += ", nullif(" + col + " IS NOT NULL, false) AS " + col;
    }
    return sql;
  }

  static std::vector<std::pair<std::string, std::string>> column_types(DuckDbConnection& db, const std::string& relation) {
    std::vector<std::pair<std::string, std::string>> out;
    QueryResult r = db.query("DESCRIBE " + relation);
    for (std::uint64_t i = 0; i < r.rows(); ++i) out.emplace_back(r.text(0, i), r.text(1, i));
    return out;
  }

  // Bytes of input per row, before any row is read: Parquet's footers count the rows; text
  // formats are sampled (newlines in the first MiBs). A streamed split's first part is sized
  // from it, and the reading's progress estimated.
  double sampled_input_bytes_per_row(DuckDb& db) const {
    if (inputs_.format != InputFormat::Parquet) return text_bytes_per_line();
    const std::uint64_t rows = parquet_rows(inputs_, db);
    return std::max(1.0, static_cast<double>(inputs_.total_bytes()) / static_cast<double>(std::max<std::uint64_t>(rows, 1)));
  }

  double text_bytes_per_line() const {
    constexpr std::size_t kSample = 4 << 20;
    std::string buf(kSample, '\0');
    for (const auto& f : inputs_.files) {
      FILE* in = std::fopen(f.path.c_str(), "rb");
      if (!in) continue;
      const std::size_t n = std::fread(buf.data(), 1, kSample, in);
      std::fclose(in);
      const auto lines = static_cast<std::size_t>(std::count(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n), '\n'));
      if (lines) return static_cast<double>(n) / static_cast<double>(lines);
    }
    return 1.0;
  }

  // A streamed split's parts: consecutive row ranges of its lane, in the reading order, each of
  // about --target-file-size. The split's size is known only at its end, so the last part may
  // be small. A resume drops the rows of the parts the interrupted run finished.
  void write_streamed_parts(DuckDbConnection& db, RowStream& rows, std::size_t lane, const StagedSplit& split,
                            std::vector<FileEntry>& files, SplitCounters& counters, const std::function<void()>& stop) {
    double bytes_per_row = std::max(1.0, input_bytes_per_row_ * first_part_ratio());
    std::uint64_t begin = 0;
    std::size_t part = 0;
    PartCommitter committer(stop);
    try {
      do {
        throw_if_cancelled();
        if (stop_writing_) fail(ErrorKind::Cancelled, "stopped: another split failed");
        const std::uint64_t rows_left = rows.at_end(lane) ? 0 : kUnknownRows;
        PartSlot slot{split.name, part, begin, 0, 0};
        if (const JournalDone* done = finished_part(slot, rows_left)) {
          slot = done->slot;
          if (rows.discard(lane, slot.rows) != slot.rows)
            fail(ErrorKind::Input, "split '" + split.name + "' has fewer rows than the interrupted run wrote",
                 "the input changed since; start a new run");
          bytes_per_row = measured_bytes_per_row(done->file.size, slot.rows, bytes_per_row);
          count_in_order(committer, *done, files, counters);
        } else {
          // A continued upload's rows have gone by once written: if its commit finds the
          // parts already sent do not fit, the run fails and a resume writes the part anew.
          const JournalUpload* upload = upload_in_flight(slot, rows_left);
          std::optional<UploadToResume> resume;
          if (upload) {
            slot = upload->slot;
            resume = upload->upload;
          } else {
            slot.rows = rows_for_target(bytes_per_row);
            slot.end = begin + slot.rows;
          }
          const std::string path = upload ? upload->path : new_part_path(split.name, part);
          const std::string select = "SELECT * EXCLUDE (" + std::string(kLenCol) + ", " + kSplitCol + ") FROM " +
                                     rows.next_rows_sql(lane, slot.rows);
          const std::uint64_t taken_before = rows.rows_taken(lane);
          auto written = std::make_shared<WrittenPart>(write_part_bytes(
              db, split, slot, select, path, resume, counters, [&] { return rows.rows_taken(lane) - taken_before; }));
          bytes_per_row = measured_bytes_per_row(written->bytes, slot.rows, bytes_per_row);
          commit_in_background(committer, std::move(written), path, files, counters);
        }
        begin = slot.end;
        ++part;
      } while (!rows.at_end(lane));
      committer.finish();
    } catch (...) {
      committer.rethrow_cause(std::current_exception());
    }
  }

  // A streamed split's size is not known until its end.
  static constexpr std::uint64_t kUnknownRows = std::numeric_limits<std::uint64_t>::max();

  // The export's DuckDB database in the work folder (pipes and spill files beside it).
  std::unique_ptr<DuckDb> open_work_database(const WorkDir& work) {
    fifo_dir_ = work.path();
    DuckDbSettings settings = cfg_.duckdb;
    if (settings.temp_directory.empty()) settings.temp_directory = work.path() + "/spill";
    auto db = std::make_unique<DuckDb>(work.path() + "/stage.duckdb", settings);
    // Staged rows are scratch, read back once per part from the page cache: compressing them
    // (DuckDB's default for a database file) cost 40% of the staging time on chat data.
    db->execute("SET force_compression = 'uncompressed'");
    return db;
  }

  // Splits written at once: --parallel-splits, at most one per split.
  std::size_t split_writers(std::size_t splits) const {
    return std::min<std::size_t>(splits, static_cast<std::size_t>(std::max(1, cfg_.parallel_splits)));
  }

  // DuckDB threads per query once the writers start. Its order-preserving COPY does worse on
  // several threads than on one (the bench's train split: 2 threads 11 s and 18.5 CPU-s,
  // 1 thread 8.3 s and 8.3 CPU-s), so the cores go to our concurrent queries instead: the
  // split writers and the stats beside them, each on a share of the cores.
  int write_phase_threads(std::size_t splits) const {
    const int cores = cfg_.duckdb.threads > 0 ? cfg_.duckdb.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const int queries = static_cast<int>(std::max<std::size_t>(split_writers(splits), 1)) + 1;
    return std::max(1, cores / queries);
  }

  ExportResult finish(Manifest manifest) {
    ExportResult result;
    if (cfg_.sharded()) {
      publish_fragment(manifest);
      result.fragment_url = store_->url_of(fragment_key());
    } else {
      publish(manifest);
    }
    remove_journal();
    log_published();
    result.manifest = std::move(manifest);
    result.run_url = run_url();
    result.warnings = warnings_;
    result.store = store_->stats();
    result.resume = resume_;
    return result;
  }

  // ---- shards ------------------------------------------------------------------------------
  std::string fragment_key() const { return shard_fragment_key(run_id_, cfg_.shard_index, cfg_.shard_count); }

  // This shard's slice of the input (files by index, or row groups of big Parquet files).
  void slice_sources() {
    DuckDb meta("", cfg_.duckdb);
    if (cfg_.mode != SplitMode::PerInput) {
      inputs_ = slice_inputs(inputs_, cfg_.shard_index, cfg_.shard_count, meta);
      return;
    }
    for (auto& [name, set] : per_input_sets_) set = slice_inputs(set, cfg_.shard_index, cfg_.shard_count, meta);
  }

  bool shard_slice_is_empty() const {
    if (cfg_.mode != SplitMode::PerInput) return inputs_.files.empty();
    for (const auto& [name, set] : per_input_sets_)
      if (!set.files.empty()) return false;
    return true;
  }

  // A shard whose slice holds nothing (fewer files or row groups than shards) still
  // publishes a fragment, so that commit sees every shard done.
  ExportResult publish_empty_shard() {
    log_.info("this shard's slice of the input is empty", {{"shard", std::to_string(cfg_.shard_index) + "/" + std::to_string(cfg_.shard_count)}});
    std::vector<SplitEntry> entries;
    if (cfg_.mode == SplitMode::Hash)
      for (const auto& w : cfg_.weights) entries.push_back({w.name, {}, "", {}});
    if (cfg_.mode == SplitMode::PerInput)
      for (const auto& [name, path] : cfg_.split_inputs) entries.push_back({name, {}, "", {}});
    for (auto& e : entries) e.checksum = stats_checksum(e.stats);
    return finish(build_manifest(std::move(entries)));
  }

  // Each split's length distribution at 1001 ranks, for commit to merge percentiles.
  std::map<std::string, LengthGrid> length_grids(DuckDbConnection& db, const std::vector<StagedSplit>& staged) const {
    std::string ranks = "[";
    for (int k = 0; k <= kQuantileGridSteps; ++k) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%.4f", k ? ", " : "", static_cast<double>(k) / kQuantileGridSteps);
      ranks += buf;
    }
    ranks += "]";
    std::map<std::string, LengthGrid> out;
    for (const auto& [source, members] : splits_by_source(staged)) {
      QueryResult r = db.query("SELECT " + staged[members.front()].key + " AS __k, count(*), CAST(quantile_disc(" + kLenCol +
                               ", " + ranks + ") AS VARCHAR) FROM " + source + " GROUP BY __k");
      for (std::uint64_t row = 0; row < r.rows(); ++row) {
        if (r.is_null(0, row)) continue;
        for (std::size_t m : members) {
          if (staged[m].key_text != r.text(0, row)) continue;
          LengthGrid g;
          g.count = static_cast<std::uint64_t>(r.int64(1, row));
          for (const auto& v : json::parse(r.text(2, row))) g.values.push_back(v.get<std::int64_t>());
          out[staged[m].name] = std::move(g);
        }
      }
    }
    return out;
  }

  // The fragment: the shard's own manifest, plus what commit needs to check and merge.
  void publish_fragment(const Manifest& manifest) {
    json fragment = json::parse(manifest.to_json());
    fragment["shard"] = {{"index", cfg_.shard_index}, {"count", cfg_.shard_count}};
    fragment["config"] = export_config_to_json(cfg_);
    json grids = json::object();
    for (const auto& split : manifest.splits) {
      auto it = grids_.find(split.name);
      const LengthGrid g = it == grids_.end() ? LengthGrid{} : it->second;
      grids[split.name] = {{"count", g.count}, {"values", g.values}};
    }
    fragment["length_grids"] = grids;
    if (!store_->put_if_absent(fragment_key(), fragment.dump(2) + "\n")) {
      lost_publish_race_ = true;
      fail(ErrorKind::Destination, "shard " + std::to_string(cfg_.shard_index) + "/" + std::to_string(cfg_.shard_count) +
                                       " of run " + run_id_ + " was published by another process while this one ran",
           "nothing to do: that shard is done");
    }
  }

  // Keeps the lease fresh while this export runs, so no other process takes the run over.
  void beat() noexcept {
    try {
      journal_->heartbeat();
    } catch (const std::exception& e) {
      log_.debug("could not refresh the journal's lease", {{"error", e.what()}});
    }
  }

  void remove_journal() noexcept {
    try {
      journal_->remove_all();
    } catch (const std::exception& e) {
      log_.warn("published, but the journal could not be removed; `splitship gc` removes it",
                {{"journal", journal_->url()}, {"error", e.what()}});
    }
  }

  static constexpr const char* kInterrupted = "interrupted; nothing was published";

  void throw_if_cancelled() const {
    if (cancel_.cancelled()) fail(ErrorKind::Cancelled, kInterrupted);
  }

  // Runs work that reads the source, turning DuckDB's errors into messages that name the
  // input file and line.
  template <typename Work>
  static auto with_read_errors(const InputSet& inputs, Work&& work) {
    try {
      return work();
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Input) throw;
      fail(ErrorKind::Input, describe_read_error(e.what(), inputs));
    }
  }

  void execute_reading(DuckDb& db, const std::string& sql, const InputSet& inputs) {
    with_read_errors(inputs, [&] { db.execute(sql); });
  }

  void produce_reading(RowStream& rows, DuckDbConnection& con, const std::string& sql, std::size_t lane_column) {
    with_read_errors(inputs_, [&] { rows.produce(con, sql, lane_column); });
  }

  std::vector<StagedSplit> stage(DuckDb& db) {
    return cfg_.mode == SplitMode::PerInput ? stage_per_input(db) : stage_single_input(db);
  }

  InputShape open_source(DuckDb& db, const std::string& view, const InputSet& inputs) {
    return with_read_errors(inputs, [&] {
      db.execute("CREATE VIEW " + view + " AS SELECT * FROM " + reader_sql(inputs));
      InputShape shape = describe_relation(db.main(), view);
      if (auto pinned = pinned_reader_sql(inputs, column_types(db.main(), view)))
        db.execute("CREATE OR REPLACE VIEW " + view + " AS SELECT * FROM " + *pinned);
      return shape;
    });
  }

  LengthSource checked_length_source(DuckDb& db, const InputShape& shape, const std::string& view) {
    LengthSource len = length_source(cfg_, shape);
    try {
      db.execute("SELECT " + len.sql + " FROM " + view + " LIMIT 0");
    } catch (const Error& e) {
      fail(ErrorKind::Usage, "--length-expr '" + cfg_.length_expr + "' is not valid SQL over the input: " + e.what(),
           "columns are: " + column_list(shape.columns));
    }
    if (len.description == "none" && !length_warned_) {
      warn("no messages or text column: feature_length is 0 (pass --length-expr to measure documents)");
      length_warned_ = true;
    }
    length_description_ = len.description;
    return len;
  }

  // Finds the input files (globs, folders) before anything is written: their sizes and times
  // are the fingerprint a resume compares.
  void resolve_sources() {
    if (cfg_.mode != SplitMode::PerInput) {
      inputs_ = resolve_inputs(cfg_.inputs, cfg_.format);
      return;
    }
    for (const auto& [name, path] : cfg_.split_inputs) per_input_sets_.emplace_back(name, resolve_inputs({path}, cfg_.format));
  }

  // --split-column: the split names are the column's values, known once the input is read,
  // so the rows are staged first (hash splits stream instead: export_streamed).
  std::vector<StagedSplit> stage_single_input(DuckDb& db) {
    const InputShape shape = open_source(db, "__src", inputs_);
    const LengthSource len = checked_length_source(db, shape, "__src");
    require_column(shape, cfg_.split_column, "--split-column");
    execute_reading(db, "CREATE TABLE __staged AS SELECT *, " + len.sql + " AS " + kLenCol + " FROM __src", inputs_);
    const std::string col = sql_ident(cfg_.split_column);
    QueryResult values = db.query("SELECT CAST(" + col + " AS VARCHAR) AS v, count(*) FROM __staged GROUP BY ALL ORDER BY v NULLS FIRST");
    std::vector<StagedSplit> out;
    for (std::uint64_t r = 0; r < values.rows(); ++r) {
      if (values.is_null(0, r))
        fail(ErrorKind::Input, std::to_string(values.int64(1, r)) + " rows have no value in --split-column '" +
                                   cfg_.split_column + "'",
             "fill the column or filter those rows out first");
      const std::string name = values.text(0, r);
      validate_split_name(name, "--split-column '" + cfg_.split_column + "'");
      out.push_back({name, split_view(db, out.size(), "__staged", col, "CAST(" + col + " AS VARCHAR) = " + sql_string(name)),
                     "__staged", "CAST(" + col + " AS VARCHAR)", name});
    }
    if (out.empty()) warn("the input has no rows: nothing to split");
    return out;
  }

  // A split is a view over the one staging table, not a copy of its rows: the rows are
  // materialised once, and each part COPYs a rowid range of the view.
  static std::string split_view(DuckDb& db, std::size_t index, const std::string& table, const std::string& drop,
                                const std::string& where) {
    const std::string view = "__split_" + std::to_string(index);
    db.execute("CREATE VIEW " + view + " AS SELECT rowid AS " + kRowCol + ", * " +
               (drop.empty() ? std::string() : "EXCLUDE (" + drop + ") ") + "FROM " + table + " WHERE " + where);
    return view;
  }

  std::vector<StagedSplit> stage_per_input(DuckDb& db) {
    std::vector<StagedSplit> out;
    for (const auto& [name, inputs] : per_input_sets_) {
      const std::string view = "__src_" + std::to_string(out.size());
      const InputShape shape = open_source(db, view, inputs);
      const LengthSource len = checked_length_source(db, shape, view);
      const std::string table = "__input_" + std::to_string(out.size());
      execute_reading(db, "CREATE TABLE " + table + " AS SELECT *, " + len.sql + " AS " + kLenCol + " FROM " + view, inputs);
      out.push_back({name, split_view(db, out.size(), table, "", "true"), table, "'all'", "all"});
    }
    return out;
  }

  // Split indexes per staging table: each table is scanned once for all of its splits.
  static std::map<std::string, std::vector<std::size_t>> splits_by_source(const std::vector<StagedSplit>& staged) {
    std::map<std::string, std::vector<std::size_t>> by_source;
    for (std::size_t i = 0; i < staged.size(); ++i) by_source[staged[i].source].push_back(i);
    return by_source;
  }

  // Rows per split: a scan of the split column only, so the writers can start before the stats.
  static std::vector<std::uint64_t> count_rows(DuckDbConnection& db, const std::vector<StagedSplit>& staged) {
    std::vector<std::uint64_t> rows(staged.size(), 0);
    for (const auto& [source, members] : splits_by_source(staged)) {
      QueryResult r = db.query("SELECT " + staged[members.front()].key + " AS __k, count(*) FROM " + source + " GROUP BY __k");
      for (std::uint64_t row = 0; row < r.rows(); ++row) {
        if (r.is_null(0, row)) continue;
        for (std::size_t m : members)
          if (staged[m].key_text == r.text(0, row)) rows[m] = static_cast<std::uint64_t>(r.int64(1, row));
      }
    }
    return rows;
  }

  // Stats and their checksums, checked against the interrupted run's (resume) or journaled.
  std::vector<SplitEntry> checked_stats(DuckDbConnection& db, const std::vector<StagedSplit>& staged,
                                        const std::vector<std::uint64_t>& rows) {
    return checked(compute_stats(db, staged), rows);
  }

  std::vector<SplitEntry> checked(std::vector<SplitEntry> entries, const std::vector<std::uint64_t>& rows) {
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].stats.num_documents != rows[i])
        fail(ErrorKind::Internal, "split '" + entries[i].name + "' counted " + std::to_string(rows[i]) +
                                      " rows, its stats " + std::to_string(entries[i].stats.num_documents));
      entries[i].checksum = stats_checksum(entries[i].stats);
    }
    log_.debug("stats computed");
    check_or_record_stats(entries);
    return entries;
  }

  // Stats of every split, one grouped pass per staging table (not one scan per split).
  std::vector<SplitEntry> compute_stats(DuckDbConnection& db, const std::vector<StagedSplit>& staged) {
    std::vector<SplitEntry> entries(staged.size());
    for (std::size_t i = 0; i < staged.size(); ++i) entries[i].name = staged[i].name;
    for (const auto& [source, members] : splits_by_source(staged)) stats_of_source(db, staged, members, entries);
    for (const auto& e : entries)
      if (e.stats.num_documents == 0) warn("split '" + e.name + "' is empty; it is published with one empty part");
    return entries;
  }

  void stats_of_source(DuckDbConnection& db, const std::vector<StagedSplit>& staged, const std::vector<std::size_t>& members,
                       std::vector<SplitEntry>& entries) {
    const StagedSplit& first = staged[members.front()];
    std::map<std::string, SplitStats*> by_key;
    std::vector<std::string> cols;
    for (const auto& [name, type] : published_columns(db, first)) {
      cols.push_back(name);
      for (std::size_t m : members) entries[m].stats.schema_fields.push_back({name, type});
    }
    for (std::size_t m : members) {
      by_key[staged[m].key_text] = &entries[m].stats;
      for (const auto& c : cols) entries[m].stats.null_counts.emplace_back(c, 0);
    }
    // The roles pass scans messages anyway: it counts their nulls too, so the main pass does
    // not read that (largest) column at all.
    const InputShape shape = streamed_columns_.empty() ? describe_relation(db, first.table) : streamed_shape_;
    const auto messages_col = shape.has_message_roles ? std::find(cols.begin(), cols.end(), "messages") : cols.end();
    const std::string L = kLenCol;
    std::string sql = "SELECT " + first.key + " AS __k, count(*), coalesce(min(" + L + "), 0), coalesce(max(" + L +
                      "), 0), CAST(coalesce(sum(" + L + "), 0) AS BIGINT), coalesce(avg(" + L + "), 0)";
    for (std::size_t i = 0; i < cols.size(); ++i)
      sql += cols.begin() + static_cast<std::ptrdiff_t>(i) == messages_col ? ", 0"  // counted by the roles pass
                                                                          : ", count(*) - count(" + sql_ident(cols[i]) + ")";
    QueryResult r = db.query(sql + " FROM " + first.source + " GROUP BY __k");
    for (std::uint64_t row = 0; row < r.rows(); ++row) {
      SplitStats* stats = stats_of_row(r, row, by_key);
      if (!stats) continue;
      SplitStats& s = *stats;
      s.num_documents = static_cast<std::uint64_t>(r.int64(1, row));
      s.length = {r.int64(2, row), r.int64(3, row), r.int64(4, row), r.real(5, row), 0, 0, 0};
      for (std::size_t i = 0; i < cols.size(); ++i) s.null_counts[i].second = static_cast<std::uint64_t>(r.int64(6 + i, row));
    }
    length_percentiles(db, first, by_key);

    // Rows: (split key, whether the row's messages are NULL, role, count). A row without
    // messages unnests to one NULL role flagged as such, so one scan counts both.
    std::string roles_sql;
    if (shape.has_message_roles)
      roles_sql = "SELECT __k, __no_messages, coalesce(CAST(r AS VARCHAR), '<null>'), count(*) FROM (SELECT " + first.key +
                  " AS __k, \"messages\" IS NULL AS __no_messages, unnest(CASE WHEN \"messages\" IS NULL THEN [NULL] "
                  "ELSE list_transform(\"messages\", m -> m.role) END) AS r FROM " + first.source + ") GROUP BY ALL";
    else if (shape.has_role)
      roles_sql = "SELECT " + first.key + " AS __k, false, coalesce(CAST(\"role\" AS VARCHAR), '<null>'), count(*) FROM " +
                  first.source + " GROUP BY ALL";
    role_description_ = shape.has_message_roles ? "messages[].role" : shape.has_role ? "role column" : "none";
    if (roles_sql.empty()) return;
    QueryResult roles = db.query(roles_sql);
    const std::size_t messages_index = static_cast<std::size_t>(messages_col - cols.begin());
    for (std::uint64_t i = 0; i < roles.rows(); ++i) {
      SplitStats* stats = stats_of_row(roles, i, by_key);
      if (!stats) continue;
      const auto count = static_cast<std::uint64_t>(roles.int64(3, i));
      if (roles.int64(1, i) != 0)
        stats->null_counts[messages_index].second = count;
      else
        stats->role_distribution[roles.text(2, i)] = count;
    }
  }

  // The columns of the published parts, with their types: the source's when streamed (the
  // stats table holds only what the stats need of them), else the split view's.
  std::vector<std::pair<std::string, std::string>> published_columns(DuckDbConnection& db, const StagedSplit& first) const {
    if (!streamed_columns_.empty()) return streamed_columns_;
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [name, type] : column_types(db, first.table))
      if (name != kLenCol && name != kRowCol) out.emplace_back(name, type);
    return out;
  }

  // The split a grouped stats row (split key first) belongs to; null for other keys.
  static SplitStats* stats_of_row(const QueryResult& r, std::uint64_t row, const std::map<std::string, SplitStats*>& by_key) {
    if (r.is_null(0, row)) return nullptr;
    const auto it = by_key.find(r.text(0, row));
    return it == by_key.end() ? nullptr : it->second;
  }

  // p50/p95/p99 of each split's lengths, exactly as quantile_disc defines them (the smallest
  // length with at least that fraction of documents at or below it), from a histogram of the
  // lengths rather than quantile_disc itself: that aggregate keeps every value of a group in
  // memory outside DuckDB's limit (alone, 16M lengths took 515 MiB of RSS under a 320 MiB
  // limit), where a GROUP BY and a window over the distinct lengths stay within it.
  static void length_percentiles(DuckDbConnection& db, const StagedSplit& first, const std::map<std::string, SplitStats*>& by_key) {
    const std::string L = kLenCol;
    auto rank = [](const char* p) {
      return std::string("min(__len) FILTER (WHERE __cum >= ceil(") + p + " * __n::DOUBLE))";
    };
    QueryResult r = db.query(
        "WITH h AS (SELECT " + first.key + " AS __k, " + L + " AS __len, count(*) AS __c FROM " + first.source + " WHERE " + L +
        " IS NOT NULL GROUP BY ALL), cum AS (SELECT __k, __len, sum(__c) OVER (PARTITION BY __k ORDER BY __len) AS __cum, "
        "sum(__c) OVER (PARTITION BY __k) AS __n FROM h) SELECT __k, " + rank("0.5") + ", " + rank("0.95") + ", " + rank("0.99") +
        " FROM cum GROUP BY __k");
    for (std::uint64_t row = 0; row < r.rows(); ++row) {
      SplitStats* stats = stats_of_row(r, row, by_key);
      if (!stats) continue;
      stats->length.p50 = r.int64(1, row);
      stats->length.p95 = r.int64(2, row);
      stats->length.p99 = r.int64(3, row);
    }
  }

  // With --overwrite the old manifest goes first, so no reader ever pairs it with new parts;
  // then every old object but this run's journal.
  void unpublish_previous_run() {
    if (!cfg_.overwrite) return;
    if (store_->head(manifest_key())) {
      log_.info("--overwrite: removing the published run first", {{"run_id", run_id_}});
      store_->remove(manifest_key());
    }
    for (const auto& obj : store_->list(run_id_ + "/"))
      if (!is_journal_key(obj.key)) store_->remove(obj.key);
  }

  double initial_bytes_per_row(std::uint64_t total_rows) const {
    const std::uint64_t bytes = cfg_.mode == SplitMode::PerInput ? per_input_total_bytes() : inputs_.total_bytes();
    const double rows = static_cast<double>(std::max<std::uint64_t>(total_rows, 1));
    return std::max(1.0, static_cast<double>(bytes) / rows * first_part_ratio());
  }

  // Parquet bytes per input byte, guessed for a split's first part: zstd Parquet is usually
  // several times smaller than text formats. Later parts use the bytes per row measured.
  double first_part_ratio() const { return source_format() == InputFormat::Parquet ? 1.0 : 0.3; }

  InputFormat source_format() const {
    return cfg_.mode == SplitMode::PerInput && !per_input_sets_.empty() ? per_input_sets_.front().second.format
                                                                        : inputs_.format;
  }

  std::uint64_t per_input_total_bytes() const {
    std::uint64_t total = 0;
    for (const auto& [n, set] : per_input_sets_) total += set.total_bytes();
    return total;
  }

  std::string compression_sql() const { return cfg_.compression == "none" ? "uncompressed" : cfg_.compression; }

  // Splits are written in parallel, each on its own DuckDB connection: one split's COPY
  // alone leaves a core idle much of the time (its ordered Parquet writer waits on row groups,
  // its part waits on the store's commit). `beside` (may be null) runs at the same time on a
  // connection of its own. The first failure stops everything else.
  void write_splits(DuckDb& db, const std::vector<StagedSplit>& staged, std::vector<std::vector<FileEntry>>& files,
                    const std::function<void(DuckDbConnection&)>& beside) {
    const std::size_t workers = split_writers(staged.size());
    std::vector<std::exception_ptr> errors(staged.size() + 1);
    const std::function<void()> stop = [&] {
      stop_writing_ = true;
      db.interrupt();
    };
    auto guarded = [&](std::size_t slot, const std::function<void(DuckDbConnection&)>& work) {
      return [&, slot, work] {
        try {
          if (stop_writing_) return;
          auto con = db.connect();
          work(*con);
        } catch (...) {
          errors[slot] = std::current_exception();
          stop();
        }
      };
    };
    {
      // Two pools: the side task's thread must not take up a split once it is done.
      TaskPool side(beside ? 1 : 0);
      TaskPool writers(static_cast<int>(std::max<std::size_t>(workers, 1)));
      if (beside) side.submit(guarded(staged.size(), beside));
      for (std::size_t i = 0; i < staged.size(); ++i)
        writers.submit(guarded(i, [&, i](DuckDbConnection& con) { write_parts(con, staged[i], files[i], *counters_[i], stop); }));
    }
    rethrow_root_cause(errors, cancel_.cancelled(), kInterrupted);
  }


  // Parts are consecutive row-id ranges of the split's view, each holding about
  // --target-file-size of Parquet (rows per part adapt to the bytes per row measured so far).
  // A part is committed while the next one is written (PartCommitter); `stop` stops the other
  // writers when a commit fails.
  void write_parts(DuckDbConnection& db, const StagedSplit& split, std::vector<FileEntry>& files, SplitCounters& counters,
                   const std::function<void()>& stop) {
    const std::uint64_t rows = counters.rows_total;
    double bytes_per_row = initial_bytes_per_row(total_documents());
    std::uint64_t begin = 0, done_rows = 0;
    std::size_t part = 0;
    PartCommitter committer(stop);
    try {
      do {
        throw_if_cancelled();
        if (stop_writing_) fail(ErrorKind::Cancelled, "stopped: another split failed");
        PartSlot slot{split.name, part, begin, 0, 0};
        if (const JournalDone* done = finished_part(slot, rows - done_rows)) {
          slot = done->slot;
          bytes_per_row = measured_bytes_per_row(done->file.size, slot.rows, bytes_per_row);
          count_in_order(committer, *done, files, counters);
        } else if (const JournalUpload* upload = upload_in_flight(slot, rows - done_rows)) {
          slot = upload->slot;
          committer.finish();  // files are listed in part order
          FileEntry file = write_resumed_part(db, split, slot, *upload, counters);
          bytes_per_row = measured_bytes_per_row(file.size, slot.rows, bytes_per_row);
          count_part(slot, std::move(file), files, counters);
        } else {
          std::uint64_t count = rows_for_target(bytes_per_row);
          if (static_cast<double>(rows - done_rows) <= 1.25 * static_cast<double>(count)) count = rows - done_rows;  // no tiny last part
          slot.rows = count;
          slot.end = count == rows - done_rows ? kLastRow : row_after(db, split, begin, count);
          const std::string path = new_part_path(split.name, part);
          auto written = std::make_shared<WrittenPart>(
              write_part_bytes(db, split, slot, staged_part_select(split, slot), path, std::nullopt, counters));
          bytes_per_row = measured_bytes_per_row(written->bytes, slot.rows, bytes_per_row);
          commit_in_background(committer, std::move(written), path, files, counters);
        }
        done_rows += slot.rows;
        begin = slot.end;
        ++part;
      } while (done_rows < rows);
      committer.finish();
    } catch (...) {
      committer.rethrow_cause(std::current_exception());
    }
  }

  // A part file the interrupted run finished, kept as it is.
  FileEntry kept_part(const JournalDone& done, SplitCounters& counters) {
    std::lock_guard lock(shared_mutex_);
    resume_.files_kept += 1;
    resume_.bytes_kept += done.file.size;
    counters.bytes_done += done.file.size;
    return done.file;
  }

  // The bytes per row a split's next part is sized with, from the part just written.
  static double measured_bytes_per_row(std::uint64_t bytes, std::uint64_t rows, double previous) {
    return rows > 0 ? std::max(1.0, static_cast<double>(bytes) / static_cast<double>(rows)) : previous;
  }

  // Rows for a part file of about --target-file-size at the bytes per row measured so far.
  std::uint64_t rows_for_target(double bytes_per_row) const {
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(static_cast<double>(cfg_.target_file_size) / bytes_per_row));
  }

  // A kept part is counted through the committer too, so the split's files stay in part order.
  void count_in_order(PartCommitter& committer, const JournalDone& done, std::vector<FileEntry>& files,
                      SplitCounters& counters) {
    committer.submit([&] { count_part(done.slot, kept_part(done, counters), files, counters); });
  }

  // Counts a split's part as done (in part order: its commits run one after another).
  void count_part(const PartSlot& slot, FileEntry file, std::vector<FileEntry>& files, SplitCounters& counters) {
    files.push_back(std::move(file));
    ++files_done_;
    counters.rows_done += slot.rows;
    counters.parts_done += 1;
  }

  // The end of a range: past every row (the last part of a split).
  static constexpr std::uint64_t kLastRow = std::numeric_limits<std::int64_t>::max();

  // The row id just past `count` rows of the split, counted from row id `begin`.
  static std::uint64_t row_after(DuckDbConnection& db, const StagedSplit& split, std::uint64_t begin, std::uint64_t count) {
    QueryResult r = db.query(std::string("SELECT ") + kRowCol + " FROM " + split.table + " WHERE " + kRowCol +
                             " >= " + std::to_string(begin) + " ORDER BY " + kRowCol + " LIMIT 1 OFFSET " +
                             std::to_string(count));
    return r.rows() ? static_cast<std::uint64_t>(r.int64(0, 0)) : kLastRow;
  }

  std::string new_part_path(const std::string& split, std::size_t part) const {
    char name[64];
    if (cfg_.sharded())
      std::snprintf(name, sizeof name, "part-%05d-%05zu-%s.parquet", cfg_.shard_index, part, attempt_id_.c_str());
    else
      std::snprintf(name, sizeof name, "part-%05zu-%s.parquet", part, attempt_id_.c_str());
    return split + "/" + name;
  }

  // A part file the interrupted run finished, if it starts where this one must.
  // A part file the interrupted run finished, if it starts where this one must.
  const JournalDone* finished_part(const PartSlot& slot, std::uint64_t rows_left) const {
    auto it = done_.find({slot.split, slot.index});
    return it != done_.end() && fits(it->second.slot, slot, rows_left) ? &it->second : nullptr;
  }

  const JournalUpload* upload_in_flight(const PartSlot& slot, std::uint64_t rows_left) const {
    auto it = uploads_.find({slot.split, slot.index});
    return it != uploads_.end() && fits(it->second.slot, slot, rows_left) ? &it->second : nullptr;
  }

  static bool fits(const PartSlot& journaled, const PartSlot& wanted, std::uint64_t rows_left) {
    return journaled.begin == wanted.begin && journaled.rows <= rows_left && journaled.end >= journaled.begin &&
           (journaled.rows > 0 || rows_left == 0);
  }

  // A part file whose bytes are all with the store's writer (sent, or in its buffers), not yet
  // committed.
  struct WrittenPart {
    PartSlot slot;
    std::string key;
    std::uint64_t bytes = 0;
    bool resumed = false;
    std::unique_ptr<UploadObserver> observer;  // declared first: the writer reports to it
    std::unique_ptr<ObjectWriter> writer;
  };

  // Writes one staged part file at once, continuing its upload in flight, or, when the parts
  // already sent no longer fit the bytes written now, sending it again from the start (a
  // staged part's rows can be read a second time; a streamed part's cannot).
  FileEntry write_resumed_part(DuckDbConnection& db, const StagedSplit& split, PartSlot& slot, const JournalUpload& upload,
                               SplitCounters& counters) {
    const std::string select = staged_part_select(split, slot);
    FileEntry file;
    try {
      file = write_part(db, split, slot, select, upload.path, upload.upload, counters);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Integrity) throw;
      warn("could not continue the upload of " + upload.path + " (" + e.what() + "); sending it again");
      file = write_part(db, split, slot, select, upload.path, std::nullopt, counters);
    }
    journal_done(slot, file);
    return file;
  }

  // Commits a written part on the split's committer while its writer goes on.
  void commit_in_background(PartCommitter& committer, std::shared_ptr<WrittenPart> written, const std::string& path,
                            std::vector<FileEntry>& files, SplitCounters& counters) {
    committer.submit([this, written, path, &files, &counters] {
      count_part(written->slot, commit_journaled_part(*written, path, counters), files, counters);
    });
  }

  // Commits a written part and journals it as finished.
  FileEntry commit_journaled_part(WrittenPart& part, const std::string& path, SplitCounters& counters) {
    FileEntry file = commit_part(part, path, counters);
    journal_done(part.slot, file);
    return file;
  }

  void journal_done(const PartSlot& slot, const FileEntry& file) {
    try {
      journal_->record_done(JournalDone{slot, file});
    } catch (const std::exception& e) {
      if (cancel_.cancelled()) throw;
      log_.warn("could not journal a finished part; a resume would write it again", {{"part", file.path}, {"error", e.what()}});
    }
  }

  std::uint64_t total_documents() const {
    std::uint64_t total = 0;
    for (const auto& c : counters_) total += c->rows_total;
    return total;
  }

  // A staged part: a row-id range of the split's view.
  std::string staged_part_select(const StagedSplit& split, const PartSlot& slot) const {
    return "SELECT * EXCLUDE (" + std::string(kLenCol) + ", " + kRowCol + ") FROM " + split.table + " WHERE " + kRowCol +
           " >= " + std::to_string(slot.begin) + " AND " + kRowCol + " < " + std::to_string(slot.end);
  }

  FileEntry write_part(DuckDbConnection& db, const StagedSplit& split, PartSlot& slot, const std::string& select,
                       const std::string& relative_path, const std::optional<UploadToResume>& resume, SplitCounters& counters) {
    WrittenPart part = write_part_bytes(db, split, slot, select, relative_path, resume, counters);
    return commit_part(part, relative_path, counters);
  }

  // COPYs the part's rows into the split's pipe, whose reader hands them to the store's writer.
  // `rows_written` (streamed parts) settles slot.rows to the rows the COPY took.
  WrittenPart write_part_bytes(DuckDbConnection& db, const StagedSplit& split, PartSlot& slot, const std::string& select,
                               const std::string& relative_path, const std::optional<UploadToResume>& resume,
                               SplitCounters& counters, const std::function<std::uint64_t()>& rows_written = {}) {
    WrittenPart part;
    part.key = run_id_ + "/" + relative_path;
    part.resumed = resume.has_value();
    // Recorded before the write: an interrupted PutObject may still have landed, and removing
    // a key that does not exist is harmless.
    {
      std::lock_guard lock(shared_mutex_);
      written_keys_.push_back(part.key);
    }
    part.observer = journal_->observe_upload(slot, relative_path);
    // Its size is not known before its end, but it is aimed at --target-file-size (the first
    // part of a split from a guess that can be off a few times): the store's part size then
    // grows with a huge target instead of running out of S3's 10,000 parts.
    part.writer = store_->open_writer(part.key, WriteOptions{4 * cfg_.target_file_size, part.observer.get(), resume});
    const std::uint64_t bytes_before = counters.bytes_done.load();
    {
      FifoPartSink sink(fifo_path(split), *part.writer, counters.bytes_done);
      const std::string sql = "COPY (" + select + ") TO " + sql_string(fifo_path(split)) + " (FORMAT parquet, COMPRESSION " +
                              compression_sql() + ", ROW_GROUP_SIZE " + std::to_string(cfg_.row_group_size) +
                              ", USE_TMP_FILE false)";
      try {
        db.execute(sql);
      } catch (...) {
        if (sink.failed()) {
          counters.bytes_done = bytes_before;
          sink.finish();  // the store's error explains DuckDB's broken pipe
        }
        sink.abandon();
        part.writer->abort();
        throw;
      }
      try {
        sink.finish();
      } catch (...) {
        counters.bytes_done = bytes_before;
        throw;
      }
    }  // the pipe is gone before the split's next part makes it again
    if (rows_written) {
      slot.rows = rows_written();
      slot.end = slot.begin + slot.rows;
    }
    part.slot = slot;
    part.bytes = counters.bytes_done.load() - bytes_before;
    return part;
  }

  // Completes the part's upload (checking the ETag the store reports against ours).
  FileEntry commit_part(WrittenPart& part, const std::string& relative_path, SplitCounters& counters) {
    CommittedObject committed;
    try {
      committed = part.writer->commit();
    } catch (...) {
      counters.bytes_done -= part.bytes;
      throw;
    }
    const ResumeStats reused = part.writer->resume_stats();
    if (part.resumed && reused.parts_reused) {
      std::lock_guard lock(shared_mutex_);
      resume_.uploads_continued += 1;
      resume_.bytes_reused += reused.bytes_reused;
    }
    const ObjectDigests& d = committed.digests;
    log_.debug("wrote part", {{"key", part.key}, {"bytes", std::to_string(d.size)}, {"rows", std::to_string(part.slot.rows)},
                              {"bytes_reused", std::to_string(reused.bytes_reused)}});
    return FileEntry{relative_path, d.size, part.slot.rows, to_hex(d.md5), to_hex(d.sha256),
                     crc64_to_base64(d.crc64nvme), committed.info.etag};
  }

  // One pipe per split: splits are written at once.
  std::string fifo_path(const StagedSplit& split) const { return fifo_dir_ + "/" + split.table + ".pipe"; }

  Manifest build_manifest(std::vector<SplitEntry> entries) const {
    Manifest m;
    m.run_id = run_id_;
    m.created_at = utc_now_iso8601();
    m.tool_version = tool_version();
    m.source = source_json();
    m.split_rule = split_rule_json();
    m.settings = {{"compression", cfg_.compression},
                  {"target_file_size", cfg_.target_file_size},
                  {"row_group_size", cfg_.row_group_size},
                  {"length", length_description_},
                  {"roles", role_description_},
                  {"duckdb_version", DuckDb::version()}};
    m.splits = std::move(entries);
    return m;
  }

  static json files_json(const InputSet& set) {
    json files = json::array();
    for (const auto& f : set.files) files.push_back({{"path", f.path}, {"size", f.size}, {"mtime_ns", f.mtime_ns}});
    return files;
  }

  json source_json() const {
    if (cfg_.mode != SplitMode::PerInput)
      return {{"format", to_string(inputs_.format)}, {"inputs", inputs_.patterns}, {"files", files_json(inputs_)}};
    json inputs = json::object();
    json files = json::object();
    std::string format;
    for (const auto& [name, set] : per_input_sets_) {
      inputs[name] = set.patterns;
      files[name] = files_json(set);
      format = to_string(set.format);
    }
    return {{"format", format}, {"inputs", inputs}, {"files", files}};
  }

  json split_rule_json() const {
    switch (cfg_.mode) {
      case SplitMode::Hash: {
        json splits = json::array();
        for (const auto& w : cfg_.weights) splits.push_back({{"name", w.name}, {"weight", w.weight}});
        return {{"kind", "hash"}, {"key", cfg_.split_key}, {"seed", cfg_.seed}, {"splits", splits},
                {"rule", "h = int(md5(f\"{seed}:{key}\".encode()).hexdigest()[:16], 16); u = h / 2**64; "
                         "first split whose cumulative normalised weight exceeds u"}};
      }
      case SplitMode::Column:
        return {{"kind", "column"}, {"column", cfg_.split_column}};
      case SplitMode::PerInput: {
        json inputs = json::object();
        for (const auto& [name, path] : cfg_.split_inputs) inputs[name] = path;
        return {{"kind", "input"}, {"inputs", inputs}};
      }
    }
    return {};
  }

  void publish(const Manifest& manifest) {
    const std::string text = manifest.to_json();
    if (cfg_.overwrite) {
      store_->put_replace(manifest_key(), text);
    } else if (!store_->put_if_absent(manifest_key(), text)) {
      // Our parts have names of their own (the attempt id): removing them cannot touch the
      // winner's.
      lost_publish_race_ = true;
      fail(ErrorKind::Destination, "run " + run_id_ + " was published by another export while this one ran",
           "choose another --run-id");
    }
  }

  void log_published() {
    const StoreStats st = store_->stats();
    LogFields fields{{cfg_.sharded() ? "fragment" : "manifest", store_->url_of(cfg_.sharded() ? fragment_key() : manifest_key())}};
    if (st.requests) {
      fields.emplace_back("requests", std::to_string(st.requests));
      fields.emplace_back("retries", std::to_string(st.retries));
    }
    log_.info("published", fields);
  }

  // Removes what this process wrote, except anything a published manifest lists (a run that
  // won the publish race may have taken over our finished parts).
  void remove_written_objects() noexcept {
    std::set<std::string> published;
    try {
      if (lost_publish_race_)
        if (auto text = store_->get_small(manifest_key()))
        for (const auto& split : Manifest::from_json(*text, store_->url_of(manifest_key())).splits)
          for (const auto& f : split.files) published.insert(run_id_ + "/" + f.path);
    } catch (const std::exception&) {
    }
    for (const auto& key : written_keys_) {
      if (published.count(key)) continue;
      try {
        store_->remove(key);
      } catch (const std::exception& e) {
        log_.warn(std::string("could not remove ") + key + " while cleaning up: " + e.what());
      }
    }
    written_keys_.clear();
  }

  void warn(const std::string& msg) {
    std::lock_guard lock(shared_mutex_);
    warnings_.push_back(msg);
    log_.warn(msg);
  }

  const ExportConfig& cfg_;
  Logger& log_;
  ProgressListener* progress_;
  CancelToken& cancel_;
  std::unique_ptr<Store> store_;
  // In every part name: two exports racing on one run id never write the same key, so the
  // loser can remove all it wrote without touching what the winner published.
  const std::string attempt_id_ = random_suffix(8);
  std::string run_id_;
  InputSet inputs_;
  std::vector<std::pair<std::string, InputSet>> per_input_sets_;
  std::optional<HashSplitRule> rule_;
  std::string length_description_ = "none", role_description_ = "none";
  bool length_warned_ = false;
  std::vector<std::unique_ptr<SplitCounters>> counters_;
  std::vector<std::string> written_keys_;
  std::vector<std::string> warnings_;
  std::mutex shared_mutex_;  // guards written_keys_, warnings_ and resume_ while splits are written at once
  std::atomic<bool> stop_writing_ = false;
  std::optional<Journal> journal_;
  std::map<std::string, LengthGrid> grids_;  // sharded: per split, for the fragment
  // Streamed exports: the source's columns and shape, and its sampled bytes per row.
  std::vector<std::pair<std::string, std::string>> streamed_columns_;
  InputShape streamed_shape_;
  double input_bytes_per_row_ = 1.0;
  bool journal_owned_ = false;  // created or taken over: ours to release or remove
  bool lost_publish_race_ = false;
  std::atomic<std::uint64_t> files_done_ = 0;  // part files finished or kept, this process
  std::map<std::pair<std::string, std::size_t>, JournalDone> done_;
  std::map<std::pair<std::string, std::size_t>, JournalUpload> uploads_;
  ResumeSummary resume_;
  std::string fifo_dir_;
};

}  // namespace

std::string shard_fragment_key(const std::string& run_id, int index, int count) {
  return run_id + "/_shards/" + std::to_string(index) + "-of-" + std::to_string(count) + ".json";
}

std::string shard_journal_prefix(const std::string& run_id, int index, int count) {
  return Journal::prefix_of(run_id) + "shard-" + std::to_string(index) + "-of-" + std::to_string(count) + "/";
}

ExportResult run_export(const ExportConfig& config, Logger& log, ProgressListener* progress, CancelToken& cancel) {
  Exporter exporter(config, log, progress, cancel);
  return exporter.run();
}

}  // namespace splitship
