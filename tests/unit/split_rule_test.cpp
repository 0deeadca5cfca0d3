#include <gtest/gtest.h>

#include <map>

#include "splitship/error.hpp"
#include "splitship/table.hpp"

using namespace splitship;

namespace {
HashSplitRule train_val_test(std::int64_t seed) {
  return HashSplitRule({{"train", 0.8}, {"val", 0.1}, {"test", 0.1}}, seed);
}
}  // namespace

// Expected values computed with the documented Python rule (hashlib), see README.
TEST(HashSplitRule, MatchesThePythonRuleOnFixedVectors) {
  const auto rule = train_val_test(0);
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"doc-0", "train"}, {"doc-1", "train"}, {"doc-2", "train"}, {"doc-8", "test"},  {"doc-21", "test"},
      {"doc-28", "val"},  {"doc-36", "val"},  {"doc-41", "val"},  {"doc-50", "val"},  {"doc-56", "test"},
      {"0", "train"},     {"hello world", "train"}, {"", "train"}, {"None", "train"}};
  for (const auto& [key, want] : vectors) EXPECT_EQ(rule.splits()[rule.assign(key)].name, want) << key;

  const HashSplitRule four({{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}}, 3);
  const std::vector<std::string> want = {"c", "b", "c", "d", "a", "a", "c", "a", "d", "d", "d", "d"};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(four.splits()[four.assign(std::to_string(i))].name, want[i]) << i;
}

TEST(HashSplitRule, SeedChangesTheAssignment) {
  const auto a = train_val_test(0), b = train_val_test(1);
  int differ = 0;
  for (int i = 0; i < 1000; ++i) differ += a.assign(std::to_string(i)) != b.assign(std::to_string(i));
  EXPECT_GT(differ, 200);
}

TEST(HashSplitRule, RatiosWithinHalfAPointOn100kKeys) {
  const auto rule = train_val_test(42);
  std::map<std::size_t, int> counts;
  const int n = 100000;
  for (int i = 0; i < n; ++i) counts[rule.assign("key-" + std::to_string(i))]++;
  EXPECT_NEAR(counts[0] / double(n), 0.8, 0.005);
  EXPECT_NEAR(counts[1] / double(n), 0.1, 0.005);
  EXPECT_NEAR(counts[2] / double(n), 0.1, 0.005);
}

TEST(HashSplitRule, ThresholdsAreExactBoundaries) {
  // Two equal weights: u < 0.5. Python's h / 2**64 rounds h to a double first, so
  // (2**63 - 512) / 2**64 == 0.5 (not < 0.5) while (2**63 - 513) / 2**64 < 0.5.
  const HashSplitRule half({{"a", 1}, {"b", 1}}, 0);
  ASSERT_TRUE(half.thresholds()[0].has_value());
  EXPECT_EQ(*half.thresholds()[0], (1ULL << 63) - 512);
  EXPECT_FALSE(half.thresholds()[1].has_value());
  EXPECT_EQ(half.index_sql("h"), "CASE WHEN h < '7ffffffffffffe00' THEN 0 ELSE 1 END");
}

TEST(HashSplitRule, OneSplitTakesEverything) {
  const HashSplitRule one({{"all", 1}}, 0);
  EXPECT_EQ(one.index_sql("h"), "0");
  EXPECT_EQ(one.assign("anything"), 0u);
}

TEST(ParseSplitWeights, AcceptsAndRejects) {
  const auto w = parse_split_weights("train=8,val=1,test=1");
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].name, "train");
  EXPECT_DOUBLE_EQ(w[0].weight, 8);
  for (const char* bad : {"train=0", "train=-1", "train=x", "train", "train=0.5,train=0.5", "=1", "a/b=1", "..=1",
                          "_x=1", "train=nan", "train=inf"})
    EXPECT_THROW(parse_split_weights(bad), Error) << bad;
}
