#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "splitship/error.hpp"
#include "splitship/stats.hpp"

using namespace splitship;

// Expected checksums computed with Python's hashlib on the seed formula.
TEST(StatsChecksum, MatchesPythonOnFixedVectors) {
  SplitStats s;
  s.num_documents = 22;
  s.schema_fields = {{"id", "BIGINT"}, {"messages", "STRUCT(...)[]"}};
  s.length.max = 1234;
  s.role_distribution = {{"user", 12}, {"assistant", 10}};
  EXPECT_EQ(stats_checksum_input(s), "22:['id', 'messages']:1234:[('assistant', 10), ('user', 12)]");
  EXPECT_EQ(stats_checksum(s), "md5:8f85580a19d6c1a766df15d51bac0376");

  SplitStats empty;
  empty.schema_fields = {{"text", "VARCHAR"}};
  EXPECT_EQ(stats_checksum(empty), "md5:a38bc2e695bf0c966a4bb6ab245ff154");

  SplitStats odd;
  odd.num_documents = 5;
  odd.schema_fields = {{"it's", "X"}, {"naïve", "X"}, {"tab\there", "X"}, {"q\"x", "X"}};
  odd.length.max = 7;
  odd.role_distribution = {{"système", 3}, {"user", 2}, {"o'k", 1}};
  EXPECT_EQ(stats_checksum(odd), "md5:20c9a4c04b1c6edf2018de44c13a3803");
}

TEST(PythonRepr, MatchesCPython) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"abc", "'abc'"},           {"it's", "\"it's\""},         {"say \"hi\"", "'say \"hi\"'"},
      {"both ' and \"", "'both \\' and \"'"}, {"back\\slash", "'back\\\\slash'"}, {"tab\t", "'tab\\t'"},
      {"nl\n", "'nl\\n'"},        {"\x01", "'\\x01'"},          {"\x7f", "'\\x7f'"},
      {"é", "'é'"},               {"\xc2\xa0", "'\\xa0'"},      {"\u200b", "'\\u200b'"},
      {"日本", "'日本'"},         {"😀", "'😀'"},               {"\u2028", "'\\u2028'"},
      {"\xc2\xad", "'\\xad'"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(python_repr(in), want) << in;
}

// ---- merging shards ------------------------------------------------------------------------
namespace {

// quantile_disc at ranks k/steps of sorted values, as the exporter asks DuckDB for them.
splitship::LengthGrid grid_of(std::vector<std::int64_t> values) {
  std::sort(values.begin(), values.end());
  splitship::LengthGrid g;
  g.count = values.size();
  if (values.empty()) return g;
  for (int k = 0; k <= splitship::kQuantileGridSteps; ++k) {
    const auto pos = static_cast<std::size_t>(std::floor(static_cast<double>(k) / splitship::kQuantileGridSteps *
                                                          static_cast<double>(values.size() - 1)));
    g.values.push_back(values[pos]);
  }
  return g;
}

}  // namespace

TEST(MergeShards, MergedQuantilesStayWithinTheDocumentedRankError) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> lengths(6.0, 1.2);
  std::vector<std::int64_t> all;
  std::vector<splitship::LengthGrid> grids;
  for (int shard = 0; shard < 7; ++shard) {
    std::vector<std::int64_t> v(1000 + 3000 * shard);
    for (auto& x : v) x = static_cast<std::int64_t>(lengths(rng)) + (shard == 3 ? 5000 : 0);  // one skewed shard
    all.insert(all.end(), v.begin(), v.end());
    grids.push_back(grid_of(v));
  }
  grids.push_back(grid_of({}));  // an empty shard changes nothing
  std::sort(all.begin(), all.end());
  const double n = static_cast<double>(all.size());
  for (double p : {0.0, 0.01, 0.5, 0.95, 0.99, 1.0}) {
    const std::int64_t got = splitship::merged_quantile(grids, p);
    const double below = static_cast<double>(std::lower_bound(all.begin(), all.end(), got) - all.begin());
    const double at_or_below = static_cast<double>(std::upper_bound(all.begin(), all.end(), got) - all.begin());
    const double target = std::floor(p * (n - 1));
    EXPECT_LE(below - 0.001 * n - 1, target) << p;
    EXPECT_GE(at_or_below + 0.001 * n + 1, target + 1) << p;
  }
}

TEST(MergeShards, CountsRolesAndLengthsMergeExactlySoTheChecksumMatches) {
  splitship::SplitStats a, b, whole;
  a.num_documents = 3;
  b.num_documents = 2;
  a.schema_fields = b.schema_fields = whole.schema_fields = {{"id", "BIGINT"}, {"messages", "VARCHAR"}};
  a.length = {4, 90, 120, 40, 0, 0, 0};
  b.length = {1, 200, 230, 115, 0, 0, 0};
  a.role_distribution = {{"user", 3}, {"assistant", 2}};
  b.role_distribution = {{"user", 2}, {"tool", 1}};
  a.null_counts = {{"id", 0}, {"messages", 1}};
  b.null_counts = {{"id", 0}, {"messages", 2}};
  whole.num_documents = 5;
  whole.length = {1, 200, 350, 70, 0, 0, 0};
  whole.role_distribution = {{"assistant", 2}, {"tool", 1}, {"user", 5}};
  const splitship::SplitStats merged = splitship::merge_split_stats({a, splitship::SplitStats{}, b}, {});
  EXPECT_EQ(merged.num_documents, 5u);
  EXPECT_EQ(merged.length.min, 1);
  EXPECT_EQ(merged.length.max, 200);
  EXPECT_EQ(merged.length.sum, 350);
  EXPECT_DOUBLE_EQ(merged.length.mean, 70.0);
  EXPECT_EQ(merged.role_distribution, whole.role_distribution);
  EXPECT_EQ(merged.null_counts[1].second, 3u);
  EXPECT_EQ(splitship::stats_checksum(merged), splitship::stats_checksum(whole));

  splitship::SplitStats other = b;
  other.schema_fields = {{"id", "VARCHAR"}};
  EXPECT_THROW(splitship::merge_split_stats({a, other}, {}), splitship::Error);
}
