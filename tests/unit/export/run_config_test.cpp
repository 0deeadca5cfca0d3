#include <gtest/gtest.h>

#include "splitship/error.hpp"
#include "splitship/export.hpp"

using namespace splitship;

namespace {

ExportConfig sample() {
  ExportConfig c;
  c.inputs = {"/data/chat-*.jsonl"};
  c.format = InputFormat::JsonLines;
  c.mode = SplitMode::Hash;
  c.weights = {{"train", 0.8}, {"test", 0.2}};
  c.split_key = "id";
  c.seed = 7;
  c.compression = "snappy";
  c.target_file_size = 1 << 20;
  c.row_group_size = 5000;
  c.length_expr = "length(text)";
  c.dest = "s3://bucket/prefix";  // where, not what: not recorded
  c.s3.credentials.secret_access_key = "do-not-record-me";
  return c;
}

}  // namespace

TEST(RunConfigTest, RoundTripsEverySettingThatShapesTheOutput) {
  const ExportConfig c = sample();
  const auto j = export_config_to_json(c);
  ExportConfig back;
  export_config_from_json(j, back);
  EXPECT_EQ(back.inputs, c.inputs);
  EXPECT_EQ(back.format, c.format);
  EXPECT_EQ(back.mode, c.mode);
  ASSERT_EQ(back.weights.size(), 2u);
  EXPECT_EQ(back.weights[1].name, "test");
  EXPECT_DOUBLE_EQ(back.weights[1].weight, 0.2);
  EXPECT_EQ(back.split_key, "id");
  EXPECT_EQ(back.seed, 7);
  EXPECT_EQ(back.compression, "snappy");
  EXPECT_EQ(back.target_file_size, 1u << 20);
  EXPECT_EQ(back.row_group_size, 5000u);
  EXPECT_EQ(back.length_expr, "length(text)");
  EXPECT_EQ(export_config_to_json(back), j);
  EXPECT_EQ(j.dump().find("do-not-record-me"), std::string::npos);
  EXPECT_EQ(j.dump().find("s3://bucket"), std::string::npos);
}

TEST(RunConfigTest, RelativeInputsAreRecordedAbsolute) {
  ExportConfig c = sample();
  c.inputs = {"data/x.jsonl"};
  const auto j = export_config_to_json(c);
  EXPECT_EQ(j["inputs"][0].get<std::string>().front(), '/');
}

TEST(RunConfigTest, NamesTheFlagThatChanged) {
  const auto then = export_config_to_json(sample());
  EXPECT_FALSE(describe_config_change(then, then));
  ExportConfig c = sample();
  c.compression = "zstd";
  EXPECT_EQ(*describe_config_change(then, export_config_to_json(c)), "--compression was \"snappy\" and is now \"zstd\"");
  c = sample();
  c.seed = 8;
  EXPECT_EQ(describe_config_change(then, export_config_to_json(c))->rfind("--seed was 7", 0), 0u);
  c = sample();
  c.weights[0].weight = 0.7;
  EXPECT_EQ(describe_config_change(then, export_config_to_json(c))->rfind("--split was", 0), 0u);
}

TEST(RunConfigTest, IncompleteSettingsAreAnInputError) {
  ExportConfig c;
  try {
    export_config_from_json(nlohmann::ordered_json{{"inputs", nlohmann::json::array()}}, c);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Input);
    EXPECT_NE(std::string(e.what()).find("journal's settings are incomplete"), std::string::npos);
  }
}
