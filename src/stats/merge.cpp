// Merging the per-shard stats of a split at commit time (docs/manifest.md, "Sharded exports").
#include <algorithm>
#include <cmath>
#include <map>

#include "splitship/error.hpp"
#include "splitship/stats.hpp"

namespace splitship {
namespace {

// How many of a shard's documents are at most x, estimated from its grid: with c grid values
// <= x, the true count lies between the ranks of grid points c-1 and c; the midpoint is used.
double estimated_count_at_most(const LengthGrid& g, std::int64_t x) {
  if (g.count == 0 || g.values.empty()) return 0;
  const auto c = static_cast<double>(std::upper_bound(g.values.begin(), g.values.end(), x) - g.values.begin());
  if (c == 0) return 0;
  const double steps = static_cast<double>(g.values.size() - 1);
  const double n1 = static_cast<double>(g.count - 1);
  const double low = std::floor((c - 1) / steps * n1) + 1;
  const double high = c > steps ? static_cast<double>(g.count) : std::floor(c / steps * n1);
  return (low + std::max(low, high)) / 2;
}

std::string schema_text(const SplitStats& s) {
  std::string out;
  for (const auto& f : s.schema_fields) out += (out.empty() ? "" : ", ") + f.name + " " + f.type;
  return out;
}

}  // namespace

std::int64_t merged_quantile(const std::vector<LengthGrid>& shards, double p) {
  std::vector<std::int64_t> candidates;
  std::uint64_t total = 0;
  for (const auto& g : shards) {
    total += g.count;
    if (g.count) candidates.insert(candidates.end(), g.values.begin(), g.values.end());
  }
  if (total == 0) return 0;
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  // Read as position floor(p * (n - 1)), so that many + 1 values <= it. DuckDB's quantile_disc
  // (and the single-process export) takes position ceil(p * n) - 1, at most one rank away:
  // inside the 0.1% bound the grids give, left as is.
  const double wanted = std::floor(p * static_cast<double>(total - 1)) + 1;
  for (std::int64_t x : candidates) {
    double at_most = 0;
    for (const auto& g : shards) at_most += estimated_count_at_most(g, x);
    if (at_most >= wanted) return x;
  }
  return candidates.back();
}

SplitStats merge_split_stats(const std::vector<SplitStats>& shards, const std::vector<LengthGrid>& grids) {
  SplitStats out;
  std::map<std::string, std::uint64_t> nulls;
  bool first = true;
  for (const auto& s : shards) {
    if (s.num_documents == 0) continue;
    if (first) {
      out.schema_fields = s.schema_fields;
      out.length.min = s.length.min;
      out.length.max = s.length.max;
      for (const auto& [name, n] : s.null_counts) out.null_counts.emplace_back(name, 0);
      first = false;
    } else if (schema_text(s) != schema_text(out)) {
      fail(ErrorKind::Input, "shards read different columns: (" + schema_text(out) + ") and (" + schema_text(s) + ")",
           "give every input file the same columns, or export without shards");
    }
    out.num_documents += s.num_documents;
    out.length.min = std::min(out.length.min, s.length.min);
    out.length.max = std::max(out.length.max, s.length.max);
    out.length.sum += s.length.sum;
    for (const auto& [role, n] : s.role_distribution) out.role_distribution[role] += n;
    for (const auto& [name, n] : s.null_counts) nulls[name] += n;
  }
  for (auto& [name, n] : out.null_counts) n = nulls[name];
  if (out.num_documents) {
    out.length.mean = static_cast<double>(out.length.sum) / static_cast<double>(out.num_documents);
    out.length.p50 = merged_quantile(grids, 0.5);
    out.length.p95 = merged_quantile(grids, 0.95);
    out.length.p99 = merged_quantile(grids, 0.99);
  }
  return out;
}

}  // namespace splitship
