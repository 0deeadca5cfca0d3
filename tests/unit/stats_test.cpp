#include <gtest/gtest.h>

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
