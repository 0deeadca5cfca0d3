// RowStream: one query's rows, in order, handed to consumer queries through a table function
// while the query runs. The rows are never copied: a consumer's output vectors reference the
// producer's chunk and select its lane's rows from it.
#include <duckdb.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "splitship/error.hpp"
#include "splitship/table.hpp"

namespace splitship {
namespace {

constexpr const char* kFunction = "__splitship_rows";

// One chunk of the producer's result, freed when the last lane is done with it.
struct Chunk {
  duckdb_data_chunk chunk = nullptr;
  explicit Chunk(duckdb_data_chunk c) : chunk(c) {}
  ~Chunk() { duckdb_destroy_data_chunk(&chunk); }
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;
};

// Rows of one chunk that belong to a lane; `next` is the first not yet handed out.
struct Batch {
  std::shared_ptr<Chunk> chunk;
  std::vector<sel_t> rows;
  std::size_t next = 0;
  std::size_t left() const { return rows.size() - next; }
};

struct Lane {
  std::deque<Batch> queue;
  std::uint64_t taken = 0;
};

// What a consumer's query reads: its lane, and how many rows this query may take.
struct ScanBind {
  std::shared_ptr<RowStream::State> state;
  std::size_t lane = 0;
  std::uint64_t max_rows = 0;  // 0: to the lane's end
};

struct ScanProgress {
  std::uint64_t emitted = 0;
};

std::int64_t int_parameter(duckdb_bind_info info, idx_t index) {
  duckdb_value v = duckdb_bind_get_parameter(info, index);
  const std::int64_t out = duckdb_get_int64(v);
  duckdb_destroy_value(&v);
  return out;
}

}  // namespace

struct RowStream::State {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Lane> lanes;  // the split lanes, then the tee lane if any
  std::size_t split_lanes = 0;
  bool tee = false;
  std::size_t capacity = 32;
  bool columns_known = false;
  bool ended = false;
  bool closed = false;
  std::vector<std::string> names;
  std::vector<duckdb_logical_type> types;

  ~State() {
    for (auto& t : types) duckdb_destroy_logical_type(&t);
  }

  // Waits until `lane` has a row, has ended, or the stream is closed; false when closed.
  bool wait_for_rows(std::unique_lock<std::mutex>& lock, std::size_t lane) {
    changed.wait(lock, [&] { return closed || ended || !lanes[lane].queue.empty(); });
    return !closed;
  }

  // Takes up to `max` rows off the front of `lane` (lock held); their chunk, or null.
  std::shared_ptr<Chunk> take(std::size_t lane, std::size_t max, std::vector<sel_t>& rows) {
    Lane& l = lanes[lane];
    rows.clear();
    if (l.queue.empty()) return nullptr;
    Batch& b = l.queue.front();
    const std::size_t n = std::min(max, b.left());
    rows.assign(b.rows.begin() + static_cast<std::ptrdiff_t>(b.next), b.rows.begin() + static_cast<std::ptrdiff_t>(b.next + n));
    b.next += n;
    std::shared_ptr<Chunk> chunk = b.chunk;
    if (b.left() == 0) l.queue.pop_front();
    l.taken += n;
    changed.notify_all();
    return chunk;
  }

  void push(std::unique_lock<std::mutex>& lock, std::size_t lane, Batch batch) {
    changed.wait(lock, [&] { return closed || lanes[lane].queue.size() < capacity; });
    if (closed) fail(ErrorKind::Cancelled, "stopped");
    lanes[lane].queue.push_back(std::move(batch));
    changed.notify_all();
  }

  // Queues each of the chunk's rows on its lane (and all of them on the tee lane), waiting
  // where a lane is full.
  void hand_out(const std::shared_ptr<Chunk>& chunk, std::size_t lane_column) {
    const idx_t n = duckdb_data_chunk_get_size(chunk->chunk);
    if (n == 0) return;
    duckdb_vector lane_vector = duckdb_data_chunk_get_vector(chunk->chunk, lane_column);
    const auto* lane_of = static_cast<const std::uint16_t*>(duckdb_vector_get_data(lane_vector));
    std::uint64_t* validity = duckdb_vector_get_validity(lane_vector);
    std::vector<Batch> batches(lanes.size());
    for (idx_t r = 0; r < n; ++r) {
      if ((validity && !duckdb_validity_row_is_valid(validity, r)) || lane_of[r] >= split_lanes)
        fail(ErrorKind::Internal, "a row of the stream has no lane");
      batches[lane_of[r]].rows.push_back(static_cast<sel_t>(r));
    }
    if (tee) {
      batches.back().rows.resize(n);
      for (idx_t r = 0; r < n; ++r) batches.back().rows[r] = static_cast<sel_t>(r);
    }
    std::unique_lock lock(mutex);
    for (std::size_t l = 0; l < batches.size(); ++l) {
      if (batches[l].rows.empty()) continue;
      batches[l].chunk = chunk;
      push(lock, l, std::move(batches[l]));
    }
  }

  void close() {
    std::lock_guard lock(mutex);
    closed = true;
    changed.notify_all();
  }
};

namespace {

void scan_bind(duckdb_bind_info info) {
  auto state = *static_cast<std::shared_ptr<RowStream::State>*>(duckdb_bind_get_extra_info(info));
  const std::int64_t lane = int_parameter(info, 0);
  const std::int64_t max_rows = int_parameter(info, 1);
  {
    // A consumer may be planned before the producer has started: its columns are the producer's.
    std::unique_lock lock(state->mutex);
    state->changed.wait(lock, [&] { return state->columns_known || state->closed; });
    if (state->closed) return duckdb_bind_set_error(info, "the rows' producer stopped");
    if (lane < 0 || static_cast<std::size_t>(lane) >= state->lanes.size() || max_rows < 0)
      return duckdb_bind_set_error(info, "no such lane of rows");
    for (std::size_t i = 0; i < state->names.size(); ++i)
      duckdb_bind_add_result_column(info, state->names[i].c_str(), state->types[i]);
  }
  auto* bind = new ScanBind{std::move(state), static_cast<std::size_t>(lane), static_cast<std::uint64_t>(max_rows)};
  duckdb_bind_set_bind_data(info, bind, [](void* p) { delete static_cast<ScanBind*>(p); });
}

void scan_init(duckdb_init_info info) {
  // One thread: the rows come in order, and the ordered writers keep that order.
  duckdb_init_set_max_threads(info, 1);
  duckdb_init_set_init_data(info, new ScanProgress, [](void* p) { delete static_cast<ScanProgress*>(p); });
}

void scan(duckdb_function_info info, duckdb_data_chunk output) {
  auto* bind = static_cast<ScanBind*>(duckdb_function_get_bind_data(info));
  auto* progress = static_cast<ScanProgress*>(duckdb_function_get_init_data(info));
  RowStream::State& state = *bind->state;
  std::size_t want = duckdb_vector_size();
  if (bind->max_rows) want = static_cast<std::size_t>(std::min<std::uint64_t>(want, bind->max_rows - progress->emitted));
  duckdb_data_chunk_set_size(output, 0);
  if (want == 0) return;
  std::vector<sel_t> rows;
  std::shared_ptr<Chunk> chunk;
  {
    std::unique_lock lock(state.mutex);
    if (!state.wait_for_rows(lock, bind->lane)) return duckdb_function_set_error(info, "the rows' producer stopped");
    chunk = state.take(bind->lane, want, rows);
  }
  if (!chunk) return;  // the lane has ended
  duckdb_selection_vector sel = duckdb_create_selection_vector(rows.size());
  std::copy(rows.begin(), rows.end(), duckdb_selection_vector_get_data_ptr(sel));
  const idx_t columns = duckdb_data_chunk_get_column_count(output);
  for (idx_t c = 0; c < columns; ++c) {
    duckdb_vector out = duckdb_data_chunk_get_vector(output, c);
    // The output shares the producer's buffers (reference counted), so the chunk may go.
    duckdb_vector_reference_vector(out, duckdb_data_chunk_get_vector(chunk->chunk, c));
    duckdb_slice_vector(out, sel, rows.size());
  }
  duckdb_destroy_selection_vector(sel);
  duckdb_data_chunk_set_size(output, rows.size());
  progress->emitted += rows.size();
}

void register_scan(duckdb_connection con, const std::shared_ptr<RowStream::State>& state) {
  duckdb_table_function f = duckdb_create_table_function();
  duckdb_table_function_set_name(f, kFunction);
  duckdb_logical_type bigint = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
  duckdb_table_function_add_parameter(f, bigint);
  duckdb_table_function_add_parameter(f, bigint);
  duckdb_destroy_logical_type(&bigint);
  duckdb_table_function_set_extra_info(f, new std::shared_ptr<RowStream::State>(state),
                                       [](void* p) { delete static_cast<std::shared_ptr<RowStream::State>*>(p); });
  duckdb_table_function_set_bind(f, scan_bind);
  duckdb_table_function_set_init(f, scan_init);
  duckdb_table_function_set_function(f, scan);
  const duckdb_state ok = duckdb_register_table_function(con, f);
  duckdb_destroy_table_function(&f);
  if (ok == DuckDBError) fail(ErrorKind::Internal, "cannot register the row stream's table function (is one registered already?)");
}

}  // namespace

RowStream::RowStream(DuckDbConnection& register_on, std::size_t lanes, bool tee, std::size_t queue_chunks)
    : state_(std::make_shared<State>()) {
  state_->split_lanes = lanes;
  state_->tee = tee;
  state_->capacity = std::max<std::size_t>(queue_chunks, 1);
  state_->lanes.resize(lanes + (tee ? 1 : 0));
  register_scan(register_on.con_, state_);
}

RowStream::~RowStream() { close(); }

void RowStream::produce(DuckDbConnection& con, const std::string& sql, std::size_t lane_column) {
  struct Statement {
    duckdb_prepared_statement st = nullptr;
    duckdb_pending_result pending = nullptr;
    duckdb_result result{};
    bool has_result = false;
    ~Statement() {
      if (has_result) duckdb_destroy_result(&result);
      if (pending) duckdb_destroy_pending(&pending);
      duckdb_destroy_prepare(&st);
    }
  } q;
  try {
    if (duckdb_prepare(con.con_, sql.c_str(), &q.st) == DuckDBError) DuckDbConnection::fail_query(duckdb_prepare_error(q.st), false);
    if (duckdb_pending_prepared_streaming(q.st, &q.pending) == DuckDBError) DuckDbConnection::fail_query(duckdb_pending_error(q.pending), false);
    q.has_result = true;
    if (duckdb_execute_pending(q.pending, &q.result) == DuckDBError)
      DuckDbConnection::fail_query(duckdb_result_error(&q.result), duckdb_result_error_type(&q.result) == DUCKDB_ERROR_INTERRUPT);
    {
      std::lock_guard lock(state_->mutex);
      for (idx_t c = 0; c < duckdb_column_count(&q.result); ++c) {
        state_->names.emplace_back(duckdb_column_name(&q.result, c));
        state_->types.push_back(duckdb_column_logical_type(&q.result, c));
      }
      state_->columns_known = true;
      state_->changed.notify_all();
    }
    while (duckdb_data_chunk c = duckdb_fetch_chunk(q.result)) state_->hand_out(std::make_shared<Chunk>(c), lane_column);
    if (const char* err = duckdb_result_error(&q.result))
      DuckDbConnection::fail_query(err, duckdb_result_error_type(&q.result) == DUCKDB_ERROR_INTERRUPT);
  } catch (...) {
    close();
    throw;
  }
  std::lock_guard lock(state_->mutex);
  state_->ended = true;
  state_->changed.notify_all();
}

std::string RowStream::next_rows_sql(std::size_t lane, std::uint64_t max_rows) const {
  return std::string(kFunction) + "(" + std::to_string(lane) + ", " + std::to_string(max_rows) + ")";
}

std::uint64_t RowStream::discard(std::size_t lane, std::uint64_t rows) {
  std::uint64_t dropped = 0;
  std::vector<sel_t> taken;
  std::unique_lock lock(state_->mutex);
  while (dropped < rows) {
    if (!state_->wait_for_rows(lock, lane)) fail(ErrorKind::Cancelled, "stopped");
    if (!state_->take(lane, static_cast<std::size_t>(std::min<std::uint64_t>(rows - dropped, 1u << 20)), taken)) break;
    dropped += taken.size();
  }
  return dropped;
}

bool RowStream::at_end(std::size_t lane) {
  std::unique_lock lock(state_->mutex);
  if (!state_->wait_for_rows(lock, lane)) fail(ErrorKind::Cancelled, "stopped");
  return state_->lanes[lane].queue.empty();
}

std::uint64_t RowStream::rows_taken(std::size_t lane) const {
  std::lock_guard lock(state_->mutex);
  return state_->lanes[lane].taken;
}

std::size_t RowStream::lanes() const { return state_->split_lanes; }

void RowStream::close() { state_->close(); }

bool RowStream::closed() const {
  std::lock_guard lock(state_->mutex);
  return state_->closed;
}

}  // namespace splitship
