#include <gtest/gtest.h>

#include "splitship/error.hpp"
#include "splitship/manifest.hpp"

using namespace splitship;

namespace {
Manifest sample() {
  Manifest m;
  m.run_id = "r1";
  m.created_at = "2026-11-24T00:00:00.000Z";
  m.tool_version = "0.1.0";
  m.source = {{"format", "jsonl"}};
  m.split_rule = {{"kind", "column"}, {"column", "split"}};
  SplitEntry e;
  e.name = "train";
  e.stats.num_documents = 3;
  e.stats.schema_fields = {{"id", "BIGINT"}, {"text", "VARCHAR"}};
  e.stats.length = {1, 9, 15, 5.0, 5, 9, 9};
  e.stats.role_distribution = {{"user", 2}};
  e.stats.null_counts = {{"id", 0}, {"text", 1}};
  e.checksum = stats_checksum(e.stats);
  e.files.push_back({"train/part-00000.parquet", 100, 3, "aa", "bb", "cc", ""});
  m.splits.push_back(e);
  SplitEntry v = e;
  v.name = "val";
  m.splits.push_back(v);
  return m;
}
}  // namespace

TEST(Manifest, RoundTripsAndKeepsSplitOrder) {
  const Manifest m = sample();
  const std::string text = m.to_json();
  const Manifest back = Manifest::from_json(text, "mem");
  EXPECT_EQ(back.to_json(), text);
  ASSERT_EQ(back.splits.size(), 2u);
  EXPECT_EQ(back.splits[0].name, "train");
  EXPECT_EQ(back.splits[1].name, "val");
  EXPECT_EQ(back.splits[0].stats.feature_length(), 9);
  EXPECT_EQ(back.splits[0].num_bytes(), 100u);
  EXPECT_NE(text.find("\"manifest_version\": 1"), std::string::npos);
  EXPECT_NE(text.find("\"feature_length\": 9"), std::string::npos);
}

TEST(Manifest, CorruptOrForeignTextIsAnInputErrorNamingTheFile) {
  for (const char* bad : {"", "{", "[]", "{\"manifest_version\": 1}", "{\"manifest_version\": 2}"}) {
    try {
      Manifest::from_json(bad, "s3://b/r/manifest.json");
      FAIL() << "accepted: " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Input);
      EXPECT_NE(std::string(e.what()).find("s3://b/r/manifest.json"), std::string::npos);
    }
  }
}
