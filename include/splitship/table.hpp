// Reading tables with DuckDB (C API): RAII wrappers, input discovery, split rules as SQL.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct _duckdb_database;
struct _duckdb_connection;

namespace splitship {

// ---- DuckDB ---------------------------------------------------------------------------
struct DuckDbSettings {
  std::string memory_limit;    // e.g. "4GB"; empty = DuckDB's default
  int threads = 0;             // 0 = DuckDB's default (all cores)
  std::string temp_directory;  // where DuckDB spills; empty = default
};

class QueryResult;
class DuckDb;
class RowStream;

// One connection to a DuckDB database. Queries on different connections of one database run
// at the same time (splits are written in parallel); a connection is used by one thread.
// query() throws Error(Input) with DuckDB's message reduced to one line, Error(Cancelled)
// when interrupted.
class DuckDbConnection {
 public:
  explicit DuckDbConnection(DuckDb& db);
  ~DuckDbConnection();
  DuckDbConnection(const DuckDbConnection&) = delete;
  DuckDbConnection& operator=(const DuckDbConnection&) = delete;

  QueryResult query(const std::string& sql);
  void execute(const std::string& sql);
  void interrupt();   // safe from another thread: the running query fails soon after
  double progress();  // 0..100 of the running query, or -1 when unknown

 private:
  friend class RowStream;
  // A failed query's error: Cancelled when interrupted, else Input with DuckDB's message on one line.
  [[noreturn]] static void fail_query(const char* message, bool interrupted);
  DuckDb& db_;
  _duckdb_connection* con_ = nullptr;
};

// A database and its main connection, owned together; more connections come from connect().
class DuckDb {
 public:
  DuckDb(const std::string& path, const DuckDbSettings& settings);
  ~DuckDb();
  DuckDb(const DuckDb&) = delete;
  DuckDb& operator=(const DuckDb&) = delete;

  QueryResult query(const std::string& sql);
  void execute(const std::string& sql);
  DuckDbConnection& main() { return *main_; }
  // Another connection, for work beside the main one. Destroy it before the DuckDb.
  std::unique_ptr<DuckDbConnection> connect();
  void interrupt();   // every connection: safe from another thread
  double progress();  // of the main connection's running query
  static std::string version();

 private:
  friend class DuckDbConnection;
  void enrol(DuckDbConnection* c);
  void leave(DuckDbConnection* c);

  _duckdb_database* db_ = nullptr;
  std::mutex connections_mutex_;
  std::vector<DuckDbConnection*> connections_;  // for interrupt()
  std::unique_ptr<DuckDbConnection> main_;
};

// Hands the rows of one query, in its order, to other queries as they are produced: the
// export reads its source once and its Parquet writers and stats consume the rows while the
// reading goes on, with nothing staged in between. Each row goes to one lane, named by a
// USMALLINT column of the query; an optional "tee" lane sees every row. A consumer is a query
// on its own connection reading `FROM <next_rows_sql(lane, n)>`: the lane's next n rows, or
// fewer at its end. Lanes hold at most `queue_chunks` chunks each, so a slow consumer slows
// the producer, and memory stays bounded whatever the input's size.
//
// Every lane needs a consumer running at the same time as produce(), or the producer waits
// for ever on the lane that is full. close() ends all waiting: consumers' queries then fail,
// and produce() throws Error(Cancelled).
class RowStream {
 public:
  RowStream(DuckDbConnection& register_on, std::size_t lanes, bool tee, std::size_t queue_chunks = 32);
  ~RowStream();
  RowStream(const RowStream&) = delete;
  RowStream& operator=(const RowStream&) = delete;

  // Runs `sql` on `con` in the calling thread until every row is handed out. `lane_column`
  // is the index of the lane column among the query's columns. Errors of the query are
  // DuckDbConnection::query()'s.
  void produce(DuckDbConnection& con, const std::string& sql, std::size_t lane_column);
  // The table a consumer reads its lane's next `max_rows` rows from (the tee lane: lanes()).
  std::string next_rows_sql(std::size_t lane, std::uint64_t max_rows) const;
  // Drops the lane's next `rows` rows (a resume skips parts already written); returns how
  // many there were.
  std::uint64_t discard(std::size_t lane, std::uint64_t rows);
  // Waits until the lane has a row to give or has ended; true when it has ended.
  bool at_end(std::size_t lane);
  std::uint64_t rows_taken(std::size_t lane) const;
  std::size_t lanes() const;
  void close();
  bool closed() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

class QueryResult {
 public:
  explicit QueryResult(void* result);  // takes ownership of a duckdb_result*
  ~QueryResult();
  QueryResult(QueryResult&&) noexcept;
  QueryResult& operator=(QueryResult&&) = delete;
  std::uint64_t rows() const;
  std::uint64_t columns() const;
  std::string column_name(std::uint64_t col) const;
  bool is_null(std::uint64_t col, std::uint64_t row) const;
  std::string text(std::uint64_t col, std::uint64_t row) const;
  std::int64_t int64(std::uint64_t col, std::uint64_t row) const;
  double real(std::uint64_t col, std::uint64_t row) const;
  // True when the column is LIST(STRUCT(...)) whose struct has all of the given fields.
  bool is_list_of_struct_with(std::uint64_t col, const std::vector<std::string>& fields) const;

 private:
  void* result_;
};

// SQL literal and identifier quoting.
std::string sql_string(std::string_view s);
std::string sql_ident(std::string_view s);

// ---- Inputs ---------------------------------------------------------------------------
enum class InputFormat { Parquet, JsonLines, Csv };
std::string to_string(InputFormat f);
std::optional<InputFormat> format_from_name(std::string_view name);   // "parquet", "jsonl", "csv"
std::optional<InputFormat> format_from_path(std::string_view path);   // by extension

struct InputFile {
  std::string path;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  // A slice of a Parquet file (a shard's run of row groups): rows [row_begin, row_end) in
  // file order. Both 0: the whole file.
  std::uint64_t row_begin = 0, row_end = 0;
  bool whole() const { return row_begin == 0 && row_end == 0; }
};

struct InputSet {
  InputFormat format = InputFormat::Parquet;
  std::vector<std::string> patterns;  // as given
  std::vector<InputFile> files;       // expanded, sorted, de-duplicated
  std::uint64_t total_bytes() const;
};

// Expands files, globs (including **) and folders; decides the format from the extensions
// unless forced. Throws Error(Input) naming the path for anything missing or unreadable.
InputSet resolve_inputs(const std::vector<std::string>& patterns, std::optional<InputFormat> forced);

// The DuckDB table function call that reads the set, e.g. read_json([...], ...); a set with
// row slices reads each slice by file_row_number and unions them by name.
std::string reader_sql(const InputSet& inputs);

// reader_sql for JSON Lines with the columns and types already detected: DuckDB samples the
// input again each time a query over an unpinned reader is bound (~0.1 s on chat data, and an
// export binds several). Without a result (other formats, or a date or time column, whose
// detected format would be lost) the reader detects as before.
std::optional<std::string> pinned_reader_sql(const InputSet& inputs,
                                             const std::vector<std::pair<std::string, std::string>>& columns);

// Shard `index` of `count` (0-based): whole files by index (sorted file i goes to shard
// i mod count) when there are at least `count` files; otherwise, for Parquet, the row groups
// of all files in order, cut into `count` contiguous runs (so N workers share one big file).
// JSON Lines and CSV files are not cut: with fewer files than shards, some shards get none.
// The result may have no files. `db` answers Parquet metadata queries.
InputSet slice_inputs(const InputSet& set, int index, int count, DuckDb& db);

// Rows of a Parquet input's files, from their footers (whole files, slices not applied).
std::uint64_t parquet_rows(const InputSet& set, DuckDb& db);

// Turns a DuckDB error raised while reading into our one-line message, naming file and line
// (DuckDB's JSON line numbers are re-checked against the file itself).
std::string describe_read_error(const std::string& duckdb_message, const InputSet& inputs);

// For a JSON Lines file: the first line at or after `from_line` (1-based) that is not valid
// JSON, or nullopt. Used to name the exact bad line.
std::optional<std::uint64_t> first_bad_json_line(const std::string& path, std::uint64_t from_line,
                                                 std::uint64_t max_lines);

// ---- Split rules ----------------------------------------------------------------------
struct WeightedSplit {
  std::string name;
  double weight = 0;
};

// The hash rule: h = int(md5(f"{seed}:{key}").hexdigest()[:16], 16), u = h / 2**64; the row
// goes to the first split whose cumulative normalised weight exceeds u (else the last).
class HashSplitRule {
 public:
  HashSplitRule(std::vector<WeightedSplit> splits, std::int64_t seed);
  const std::vector<WeightedSplit>& splits() const { return splits_; }
  std::int64_t seed() const { return seed_; }
  // Index of the split for a key already cast to text.
  std::size_t assign(std::string_view key_text) const;
  // The same decision in DuckDB SQL: hash_sql() gives the 16 hex digits of h for a key
  // expression; index_sql() maps a column holding them to the split index.
  std::string hash_sql(const std::string& key_sql) const;
  std::string index_sql(const std::string& hash_column) const;
  // Exclusive upper bounds on h per split (2^64 is written as nullopt: "everything left").
  const std::vector<std::optional<std::uint64_t>>& thresholds() const { return thresholds_; }

 private:
  std::vector<WeightedSplit> splits_;
  std::int64_t seed_;
  std::vector<std::optional<std::uint64_t>> thresholds_;
};

// "train=0.8,val=0.1,test=0.1" → splits; throws Error(Usage) for bad names or weights.
std::vector<WeightedSplit> parse_split_weights(std::string_view text);
// Split names become folder names: letters, digits, '.', '_', '-'; not starting with '_' or '.'.
void validate_split_name(std::string_view name, std::string_view where);

}  // namespace splitship
