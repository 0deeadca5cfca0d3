#include <duckdb.h>

#include <dlfcn.h>

#include <cstdio>
#include <sys/types.h>

#include "splitship/error.hpp"
#include "splitship/table.hpp"

namespace splitship {
namespace {

duckdb_result* as_result(void* r) { return static_cast<duckdb_result*>(r); }

// DuckDB appends "LINE 1: <sql>" and a caret; users need only the first part.
std::string first_part_of(std::string message) {
  if (auto pos = message.find("\n\nLINE "); pos != std::string::npos) message.resize(pos);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  for (char& c : message)
    if (c == '\n') c = ' ';
  return message;
}

void set_option(duckdb_config config, const char* name, const std::string& value) {
  if (value.empty()) return;
  if (duckdb_set_config(config, name, value.c_str()) == DuckDBError)
    fail(ErrorKind::Usage, std::string("invalid DuckDB setting ") + name + "='" + value + "'");
}

// DuckDB's bundled jemalloc hands freed pages back to the kernel after about a second; getting
// one back then costs a page fault, and on virtual machines that fault is dear: 15 us per
// 4 KiB page on ours (0.28 GB/s). The export's Parquet writers free and re-read the staging
// table's blocks all the time and spent a third of their time faulting. Keeping freed pages
// 5 s, then returning them at once (no lazy "muzzy" stage), took the bench's export from
// 20.5 s to 16 s at the same peak RSS. Process-wide and idempotent; a DuckDB built without
// jemalloc has no such control, and nothing happens.
void keep_freed_memory_briefly() {
  using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
  static const auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "duckdb_je_mallctl"));
  if (!mallctl) return;
  ssize_t dirty_ms = 5000, muzzy_ms = 0;
  // New arenas take the defaults; the ones already made are set one by one.
  mallctl("arenas.dirty_decay_ms", nullptr, nullptr, &dirty_ms, sizeof dirty_ms);
  mallctl("arenas.muzzy_decay_ms", nullptr, nullptr, &muzzy_ms, sizeof muzzy_ms);
  unsigned arenas = 0;
  std::size_t len = sizeof arenas;
  if (mallctl("arenas.narenas", &arenas, &len, nullptr, 0) != 0) return;
  for (unsigned i = 0; i < arenas; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "arena.%u.dirty_decay_ms", i);
    mallctl(name, nullptr, nullptr, &dirty_ms, sizeof dirty_ms);  // fails for arenas not yet made
    std::snprintf(name, sizeof name, "arena.%u.muzzy_decay_ms", i);
    mallctl(name, nullptr, nullptr, &muzzy_ms, sizeof muzzy_ms);
  }
}

}  // namespace

DuckDb::DuckDb(const std::string& path, const DuckDbSettings& settings) {
  keep_freed_memory_briefly();
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) == DuckDBError) fail(ErrorKind::Internal, "cannot create DuckDB config");
  set_option(config, "memory_limit", settings.memory_limit);
  set_option(config, "threads", settings.threads > 0 ? std::to_string(settings.threads) : "");
  set_option(config, "temp_directory", settings.temp_directory);
  // No extension auto-loading or network: the tool reads local files only.
  set_option(config, "autoinstall_known_extensions", "false");
  set_option(config, "autoload_known_extensions", "false");
  char* err = nullptr;
  const auto state = duckdb_open_ext(path.empty() ? nullptr : path.c_str(), &db_, config, &err);
  duckdb_destroy_config(&config);
  if (state == DuckDBError) {
    std::string msg = err ? err : "unknown error";
    duckdb_free(err);
    fail(ErrorKind::Store, "cannot open DuckDB work database " + path + ": " + msg);
  }
  try {
    main_ = std::make_unique<DuckDbConnection>(*this);
  } catch (...) {
    duckdb_close(&db_);
    throw;
  }
}

DuckDb::~DuckDb() {
  main_.reset();
  if (db_) duckdb_close(&db_);
}

QueryResult DuckDb::query(const std::string& sql) { return main_->query(sql); }
void DuckDb::execute(const std::string& sql) { main_->execute(sql); }
double DuckDb::progress() { return main_->progress(); }
std::unique_ptr<DuckDbConnection> DuckDb::connect() { return std::make_unique<DuckDbConnection>(*this); }

void DuckDb::interrupt() {
  std::lock_guard lock(connections_mutex_);
  for (DuckDbConnection* c : connections_) c->interrupt();
}

void DuckDb::enrol(DuckDbConnection* c) {
  std::lock_guard lock(connections_mutex_);
  connections_.push_back(c);
}

void DuckDb::leave(DuckDbConnection* c) {
  std::lock_guard lock(connections_mutex_);
  std::erase(connections_, c);
}

std::string DuckDb::version() { return duckdb_library_version(); }

DuckDbConnection::DuckDbConnection(DuckDb& db) : db_(db) {
  if (duckdb_connect(db.db_, &con_) == DuckDBError) fail(ErrorKind::Internal, "cannot connect to DuckDB");
  db_.enrol(this);
}

DuckDbConnection::~DuckDbConnection() {
  db_.leave(this);
  duckdb_disconnect(&con_);
}

QueryResult DuckDbConnection::query(const std::string& sql) {
  auto* result = new duckdb_result;
  if (duckdb_query(con_, sql.c_str(), result) == DuckDBError) {
    const std::string msg = duckdb_result_error(result) ? duckdb_result_error(result) : "";
    const bool interrupted = duckdb_result_error_type(result) == DUCKDB_ERROR_INTERRUPT;
    duckdb_destroy_result(result);
    delete result;
    fail_query(msg.c_str(), interrupted);
  }
  return QueryResult(result);
}

void DuckDbConnection::fail_query(const char* message, bool interrupted) {
  if (interrupted) fail(ErrorKind::Cancelled, "interrupted");
  fail(ErrorKind::Input, first_part_of(message ? message : ""));
}

void DuckDbConnection::execute(const std::string& sql) { (void)query(sql); }

void DuckDbConnection::interrupt() { duckdb_interrupt(con_); }

double DuckDbConnection::progress() { return duckdb_query_progress(con_).percentage; }

QueryResult::QueryResult(void* result) : result_(result) {}
QueryResult::~QueryResult() {
  if (result_) {
    duckdb_destroy_result(as_result(result_));
    delete as_result(result_);
  }
}
QueryResult::QueryResult(QueryResult&& o) noexcept : result_(o.result_) { o.result_ = nullptr; }

std::uint64_t QueryResult::rows() const { return duckdb_row_count(as_result(result_)); }
std::uint64_t QueryResult::columns() const { return duckdb_column_count(as_result(result_)); }
std::string QueryResult::column_name(std::uint64_t col) const { return duckdb_column_name(as_result(result_), col); }
bool QueryResult::is_null(std::uint64_t col, std::uint64_t row) const {
  return duckdb_value_is_null(as_result(result_), col, row);
}
std::string QueryResult::text(std::uint64_t col, std::uint64_t row) const {
  char* v = duckdb_value_varchar(as_result(result_), col, row);
  std::string out = v ? v : "";
  duckdb_free(v);
  return out;
}
std::int64_t QueryResult::int64(std::uint64_t col, std::uint64_t row) const {
  return duckdb_value_int64(as_result(result_), col, row);
}
double QueryResult::real(std::uint64_t col, std::uint64_t row) const {
  return duckdb_value_double(as_result(result_), col, row);
}

bool QueryResult::is_list_of_struct_with(std::uint64_t col, const std::vector<std::string>& fields) const {
  duckdb_logical_type type = duckdb_column_logical_type(as_result(result_), col);
  bool ok = false;
  if (duckdb_get_type_id(type) == DUCKDB_TYPE_LIST) {
    duckdb_logical_type child = duckdb_list_type_child_type(type);
    if (duckdb_get_type_id(child) == DUCKDB_TYPE_STRUCT) {
      const idx_t n = duckdb_struct_type_child_count(child);
      std::size_t found = 0;
      for (const auto& want : fields)
        for (idx_t i = 0; i < n; ++i) {
          char* name = duckdb_struct_type_child_name(child, i);
          const bool same = want == name;
          duckdb_free(name);
          if (same) { ++found; break; }
        }
      ok = found == fields.size();
    }
    duckdb_destroy_logical_type(&child);
  }
  duckdb_destroy_logical_type(&type);
  return ok;
}

std::string sql_string(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string sql_ident(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace splitship
