// The export pipeline. One read of the source: DuckDB scans the inputs once into staging
// tables (split index and per-document length computed in that scan); stats and Parquet
// parts come from the staging tables, never from the source again. Each part streams from
// DuckDB's COPY through a named pipe into the hashes and the store (export/part_sink.hpp).
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "export/part_sink.hpp"
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

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      wake_.wait_for(lock, std::chrono::milliseconds(100));
      if (stop_) break;
      if (cancel_.cancelled()) db_.interrupt();
      if (listener_) listener_->update(snapshot());
    }
  }
  ProgressSnapshot snapshot() {
    ProgressSnapshot s;
    s.phase = phase_;
    s.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (phase_ == "reading") s.phase_fraction = db_.progress() / 100.0;
    if (splits_)
      for (const auto& c : *splits_)
        s.splits.push_back({c->name, c->rows_total, c->rows_done.load(), c->bytes_done.load(), c->parts_done.load()});
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

InputShape describe_relation(DuckDb& db, const std::string& relation) {
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
  if (shape.has_messages)
    return {"coalesce(list_sum(list_transform(\"messages\", m -> coalesce(length(CAST(m.content AS VARCHAR)), 0))), 0)",
            "messages[].content characters"};
  if (shape.has_text) return {"coalesce(length(CAST(\"text\" AS VARCHAR)), 0)", "text characters"};
  return {"CAST(0 AS BIGINT)", "none"};
}

// ---- the export ----------------------------------------------------------------------
struct StagedSplit {
  std::string name;
  std::string table;
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

    try {
      return export_all();
    } catch (...) {
      remove_written_objects();
      throw;
    }
  }

 private:
  std::string manifest_key() const { return run_id_ + "/" + kManifestName; }

  void validate_config() const {
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
    WorkDir work(cfg_.work_dir);
    fifo_dir_ = work.path();
    DuckDbSettings settings = cfg_.duckdb;
    if (settings.temp_directory.empty()) settings.temp_directory = work.path() + "/spill";
    DuckDb db(work.path() + "/stage.duckdb", settings);
    Monitor monitor(db, progress_, cancel_);

    log_.info("reading input", {{"run_id", run_id_}});
    std::vector<StagedSplit> staged = stage(db);
    throw_if_cancelled();

    std::vector<SplitEntry> entries;
    counters_.clear();
    for (const auto& s : staged) {
      entries.push_back(compute_stats(db, s));
      auto c = std::make_unique<SplitCounters>();
      c->name = s.name;
      c->rows_total = entries.back().stats.num_documents;
      counters_.push_back(std::move(c));
    }
    monitor.track(&counters_);
    unpublish_previous_run();

    monitor.set_phase("writing");
    for (std::size_t i = 0; i < staged.size(); ++i) {
      write_parts(db, staged[i], entries[i], *counters_[i]);
      entries[i].checksum = stats_checksum(entries[i].stats);
    }

    monitor.set_phase("publishing");
    Manifest manifest = build_manifest(std::move(entries));
    publish(manifest);
    return ExportResult{std::move(manifest), store_->url() + "/" + run_id_, warnings_, store_->stats()};
  }

  void throw_if_cancelled() const {
    if (cancel_.cancelled()) fail(ErrorKind::Cancelled, "interrupted; nothing was published");
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

  std::vector<StagedSplit> stage(DuckDb& db) {
    return cfg_.mode == SplitMode::PerInput ? stage_per_input(db) : stage_single_input(db);
  }

  InputShape open_source(DuckDb& db, const std::string& view, const InputSet& inputs) {
    return with_read_errors(inputs, [&] {
      db.execute("CREATE VIEW " + view + " AS SELECT * FROM " + reader_sql(inputs));
      return describe_relation(db, view);
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

  std::vector<StagedSplit> stage_single_input(DuckDb& db) {
    inputs_ = resolve_inputs(cfg_.inputs, cfg_.format);
    const InputShape shape = open_source(db, "__src", inputs_);
    const LengthSource len = checked_length_source(db, shape, "__src");
    std::vector<StagedSplit> out;
    if (cfg_.mode == SplitMode::Hash) {
      require_column(shape, cfg_.split_key, "--split-key");
      rule_.emplace(cfg_.weights, cfg_.seed);
      execute_reading(db,
                      "CREATE TABLE __staged AS SELECT * EXCLUDE (" + std::string(kHashCol) + "), CAST(" +
                          rule_->index_sql(kHashCol) + " AS USMALLINT) AS " + kSplitCol + " FROM (SELECT *, " +
                          len.sql + " AS " + kLenCol + ", " + rule_->hash_sql(sql_ident(cfg_.split_key)) + " AS " +
                          kHashCol + " FROM __src)",
                      inputs_);
      for (std::size_t i = 0; i < cfg_.weights.size(); ++i) {
        const std::string table = "__split_" + std::to_string(i);
        db.execute("CREATE TABLE " + table + " AS SELECT * EXCLUDE (" + kSplitCol + ") FROM __staged WHERE " +
                   kSplitCol + " = " + std::to_string(i));
        out.push_back({cfg_.weights[i].name, table});
      }
    } else {
      require_column(shape, cfg_.split_column, "--split-column");
      execute_reading(db, "CREATE TABLE __staged AS SELECT *, " + len.sql + " AS " + kLenCol + " FROM __src", inputs_);
      const std::string col = sql_ident(cfg_.split_column);
      QueryResult values = db.query("SELECT CAST(" + col + " AS VARCHAR) AS v, count(*) FROM __staged GROUP BY ALL ORDER BY v NULLS FIRST");
      for (std::uint64_t r = 0; r < values.rows(); ++r) {
        if (values.is_null(0, r))
          fail(ErrorKind::Input, std::to_string(values.int64(1, r)) + " rows have no value in --split-column '" +
                                     cfg_.split_column + "'",
               "fill the column or filter those rows out first");
        const std::string name = values.text(0, r);
        validate_split_name(name, "--split-column '" + cfg_.split_column + "'");
        const std::string table = "__split_" + std::to_string(out.size());
        db.execute("CREATE TABLE " + table + " AS SELECT * EXCLUDE (" + col + ") FROM __staged WHERE CAST(" + col +
                   " AS VARCHAR) = " + sql_string(name));
        out.push_back({name, table});
      }
      if (out.empty()) warn("the input has no rows: nothing to split");
    }
    db.execute("DROP TABLE __staged");
    return out;
  }

  std::vector<StagedSplit> stage_per_input(DuckDb& db) {
    std::vector<StagedSplit> out;
    for (const auto& [name, path] : cfg_.split_inputs) {
      InputSet inputs = resolve_inputs({path}, cfg_.format);
      const std::string view = "__src_" + std::to_string(out.size());
      const InputShape shape = open_source(db, view, inputs);
      const LengthSource len = checked_length_source(db, shape, view);
      const std::string table = "__split_" + std::to_string(out.size());
      execute_reading(db, "CREATE TABLE " + table + " AS SELECT *, " + len.sql + " AS " + kLenCol + " FROM " + view, inputs);
      per_input_sets_.emplace_back(name, std::move(inputs));
      out.push_back({name, table});
    }
    return out;
  }

  SplitEntry compute_stats(DuckDb& db, const StagedSplit& split) {
    SplitEntry entry;
    entry.name = split.name;
    SplitStats& s = entry.stats;
    QueryResult schema = db.query("DESCRIBE " + split.table);
    std::vector<std::string> cols;
    for (std::uint64_t r = 0; r < schema.rows(); ++r) {
      const std::string name = schema.text(0, r);
      if (name == kLenCol) continue;
      s.schema_fields.push_back({name, schema.text(1, r)});
      cols.push_back(name);
    }
    const std::string L = kLenCol;
    std::string sql = "SELECT count(*), coalesce(min(" + L + "), 0), coalesce(max(" + L + "), 0), CAST(coalesce(sum(" + L +
                      "), 0) AS BIGINT), coalesce(avg(" + L + "), 0), coalesce(quantile_disc(" + L + ", 0.5), 0), coalesce(quantile_disc(" +
                      L + ", 0.95), 0), coalesce(quantile_disc(" + L + ", 0.99), 0)";
    for (const auto& c : cols) sql += ", count(*) - count(" + sql_ident(c) + ")";
    QueryResult r = db.query(sql + " FROM " + split.table);
    s.num_documents = static_cast<std::uint64_t>(r.int64(0, 0));
    s.length = {r.int64(1, 0), r.int64(2, 0), r.int64(3, 0), r.real(4, 0), r.int64(5, 0), r.int64(6, 0), r.int64(7, 0)};
    for (std::size_t i = 0; i < cols.size(); ++i)
      s.null_counts.emplace_back(cols[i], static_cast<std::uint64_t>(r.int64(8 + i, 0)));

    const InputShape shape = describe_relation(db, split.table);
    std::string roles_sql;
    if (shape.has_message_roles)
      roles_sql = "SELECT coalesce(CAST(r AS VARCHAR), '<null>'), count(*) FROM (SELECT unnest(list_transform(\"messages\", m -> m.role)) AS r FROM " +
                  split.table + ") GROUP BY ALL";
    else if (shape.has_role)
      roles_sql = "SELECT coalesce(CAST(\"role\" AS VARCHAR), '<null>'), count(*) FROM " + split.table + " GROUP BY ALL";
    role_description_ = shape.has_message_roles ? "messages[].role" : shape.has_role ? "role column" : "none";
    if (!roles_sql.empty()) {
      QueryResult roles = db.query(roles_sql);
      for (std::uint64_t i = 0; i < roles.rows(); ++i)
        s.role_distribution[roles.text(0, i)] = static_cast<std::uint64_t>(roles.int64(1, i));
    }
    if (s.num_documents == 0) warn("split '" + split.name + "' is empty; it is published with one empty part");
    return entry;
  }

  // With --overwrite the old manifest goes first, so no reader ever pairs it with new parts.
  void unpublish_previous_run() {
    if (!cfg_.overwrite || !store_->head(manifest_key())) return;
    log_.info("--overwrite: removing the published run first", {{"run_id", run_id_}});
    store_->remove(manifest_key());
    for (const auto& obj : store_->list(run_id_ + "/")) store_->remove(obj.key);
  }

  double initial_bytes_per_row(std::uint64_t total_rows) const {
    const std::uint64_t bytes = cfg_.mode == SplitMode::PerInput ? per_input_total_bytes() : inputs_.total_bytes();
    const double rows = static_cast<double>(std::max<std::uint64_t>(total_rows, 1));
    // Zstd Parquet is usually several times smaller than text formats; a guess corrected
    // after the first part of each split.
    const double ratio = source_format() == InputFormat::Parquet ? 1.0 : 0.3;
    return std::max(1.0, static_cast<double>(bytes) / rows * ratio);
  }

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

  void write_parts(DuckDb& db, const StagedSplit& split, SplitEntry& entry, SplitCounters& counters) {
    const std::uint64_t rows = entry.stats.num_documents;
    double bytes_per_row = initial_bytes_per_row(total_documents());
    std::uint64_t begin = 0;
    std::size_t part = 0;
    do {
      throw_if_cancelled();
      const std::uint64_t remaining = rows - begin;
      std::uint64_t count = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(static_cast<double>(cfg_.target_file_size) / bytes_per_row));
      if (static_cast<double>(remaining) <= 1.25 * static_cast<double>(count)) count = remaining;  // no tiny last part
      char name[64];
      std::snprintf(name, sizeof name, "part-%05zu-%s.parquet", part, attempt_id_.c_str());
      FileEntry file = write_part(db, split, begin, begin + count, entry.name + "/" + name, counters);
      if (count > 0) bytes_per_row = std::max(1.0, static_cast<double>(file.size) / static_cast<double>(count));
      entry.files.push_back(std::move(file));
      counters.rows_done += count;
      counters.parts_done += 1;
      begin += count;
      ++part;
    } while (begin < rows);
  }

  std::uint64_t total_documents() const {
    std::uint64_t total = 0;
    for (const auto& c : counters_) total += c->rows_total;
    return total;
  }

  FileEntry write_part(DuckDb& db, const StagedSplit& split, std::uint64_t begin, std::uint64_t end,
                       const std::string& relative_path, SplitCounters& counters) {
    const std::string key = run_id_ + "/" + relative_path;
    // Recorded before the write: an interrupted PutObject may still have landed, and removing
    // a key that does not exist is harmless.
    written_keys_.push_back(key);
    auto writer = store_->open_writer(key);
    FifoPartSink sink(fifo_path(), *writer, counters.bytes_done);
    const std::string sql = "COPY (SELECT * EXCLUDE (" + std::string(kLenCol) + ") FROM " + split.table +
                            " WHERE rowid >= " + std::to_string(begin) + " AND rowid < " + std::to_string(end) +
                            ") TO " + sql_string(fifo_path()) + " (FORMAT parquet, COMPRESSION " + compression_sql() +
                            ", ROW_GROUP_SIZE " + std::to_string(cfg_.row_group_size) + ", USE_TMP_FILE false)";
    try {
      db.execute(sql);
    } catch (...) {
      if (sink.failed()) (void)sink.finish();  // the store's error explains DuckDB's broken pipe
      sink.abandon();
      writer->abort();
      throw;
    }
    const ObjectDigests d = sink.finish();
    const ObjectInfo info = writer->commit();
    log_.debug("wrote part", {{"key", key}, {"bytes", std::to_string(d.size)}, {"rows", std::to_string(end - begin)}});
    return FileEntry{relative_path, d.size, end - begin, to_hex(d.md5), to_hex(d.sha256),
                     crc64_to_base64(d.crc64nvme), info.etag};
  }

  std::string fifo_path() const { return fifo_dir_ + "/part.pipe"; }

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
      fail(ErrorKind::Destination, "run " + run_id_ + " was published by another export while this one ran",
           "choose another --run-id");
    }
    const StoreStats st = store_->stats();
    LogFields fields{{"manifest", store_->url_of(manifest_key())}};
    if (st.requests) {
      fields.emplace_back("requests", std::to_string(st.requests));
      fields.emplace_back("retries", std::to_string(st.retries));
    }
    log_.info("published", fields);
  }

  void remove_written_objects() noexcept {
    for (const auto& key : written_keys_) {
      try {
        store_->remove(key);
      } catch (const std::exception& e) {
        log_.warn(std::string("could not remove ") + key + " while cleaning up: " + e.what());
      }
    }
    written_keys_.clear();
  }

  void warn(const std::string& msg) {
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
  std::string fifo_dir_;
};

}  // namespace

ExportResult run_export(const ExportConfig& config, Logger& log, ProgressListener* progress, CancelToken& cancel) {
  Exporter exporter(config, log, progress, cancel);
  return exporter.run();
}

}  // namespace splitship
