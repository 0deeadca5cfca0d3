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

// f"{num_documents}:{names}:{feature_length}:{sorted(role_distribution.items())}"
std::string stats_checksum_input(const SplitStats& stats);
// "md5:" + md5 hex of the string above.
std::string stats_checksum(const SplitStats& stats);

// Python's repr() of a str, as CPython prints it (quote choice, escapes, printable check).
std::string python_repr(std::string_view utf8);

}  // namespace splitship
