// Per-split statistics and the stats checksum (the seed formula), so that a Python user can
// recompute the checksum from the manifest alone.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace splitship {

struct SchemaField {
  std::string name;
  std::string type;  // DuckDB's spelling, e.g. BIGINT, STRUCT("role" VARCHAR, content VARCHAR)[]
};

struct LengthStats {
  std::int64_t min = 0, max = 0, sum = 0;
  double mean = 0;
  std::int64_t p50 = 0, p95 = 0, p99 = 0;
};

struct SplitStats {
  std::uint64_t num_documents = 0;
  std::vector<SchemaField> schema_fields;
  LengthStats length;  // feature_length == length.max
  std::map<std::string, std::uint64_t> role_distribution;  // ordered by code point, as Python's sorted()
  std::vector<std::pair<std::string, std::uint64_t>> null_counts;  // schema order

  std::int64_t feature_length() const { return length.max; }
};

// ---- merging the stats of shards (a sharded export's commit) ----------------------------
// A shard's length distribution: the values at ranks k/kQuantileGridSteps (k = 0..steps) of
// its documents, as DuckDB's quantile_disc gives them, and how many documents it has.
inline constexpr int kQuantileGridSteps = 1000;
struct LengthGrid {
  std::uint64_t count = 0;
  std::vector<std::int64_t> values;  // kQuantileGridSteps + 1 values, or none when count == 0
};

// The p-quantile (0..1) of the union of the shards, estimated from their grids: the smallest
// grid value whose estimated rank reaches quantile_disc's. A shard's rank of any value is known
// within count/steps, so the result's rank is off by at most 0.1% of the total (+1).
std::int64_t merged_quantile(const std::vector<LengthGrid>& shards, double p);

// One split's stats from its shards': counts, nulls, roles, min, max and sum exactly (so the
// checksum equals a single-process export's); mean from sum/count; p50/p95/p99 from the grids.
// Shards without documents are skipped; the others must agree on the schema (Error(Input)).
SplitStats merge_split_stats(const std::vector<SplitStats>& shards, const std::vector<LengthGrid>& grids);

// f"{num_documents}:{names}:{feature_length}:{sorted(role_distribution.items())}"
std::string stats_checksum_input(const SplitStats& stats);
// "md5:" + md5 hex of the string above.
std::string stats_checksum(const SplitStats& stats);

// Python's repr() of a str, as CPython prints it (quote choice, escapes, printable check).
std::string python_repr(std::string_view utf8);

}  // namespace splitship
