// Readers of the input: a JSON Lines reader pinned to the columns detected once reads the same
// rows as the detecting one, and pinning is refused where it would change what is read.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "splitship/table.hpp"

using namespace splitship;

namespace {
struct TempJsonl {
  std::string path;
  explicit TempJsonl(const std::string& text) {
    char name[] = "/tmp/splitship-inputs-XXXXXX.jsonl";
    const int fd = ::mkstemps(name, 6);
    ::close(fd);
    path = name;
    std::ofstream(path) << text;
  }
  ~TempJsonl() { ::unlink(path.c_str()); }
};

std::vector<std::pair<std::string, std::string>> types_of(DuckDbConnection& con, const std::string& relation) {
  std::vector<std::pair<std::string, std::string>> out;
  QueryResult r = con.query("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM " + relation + ")");
  for (std::uint64_t i = 0; i < r.rows(); ++i) out.emplace_back(r.text(0, i), r.text(1, i));
  return out;
}

std::string all_rows(DuckDbConnection& con, const std::string& relation) {
  QueryResult r = con.query("SELECT string_agg(CAST(t AS VARCHAR), '|' ORDER BY id) FROM (SELECT * FROM " + relation + ") t");
  return r.text(0, 0);
}
}  // namespace

TEST(PinnedReader, ReadsTheSameRowsAsTheDetectingReader) {
  // A late row with a key missing from the others, nested messages, a column name with a quote.
  TempJsonl f(R"({"id": 1, "it's": "a", "messages": [{"role": "user", "content": "hi"}]})" "\n"
              R"({"id": 2, "it's": null, "messages": []})" "\n"
              R"({"id": 3, "messages": [{"role": "assistant", "content": "x\"y"}], "score": 0.5})" "\n");
  InputSet set = resolve_inputs({f.path}, std::nullopt);
  DuckDb db("", DuckDbSettings{"", 1, ""});
  const std::string detecting = reader_sql(set);
  const auto types = types_of(db.main(), detecting);
  const auto pinned = pinned_reader_sql(set, types);
  ASSERT_TRUE(pinned.has_value());
  EXPECT_NE(pinned->find("columns="), std::string::npos);
  EXPECT_EQ(types_of(db.main(), *pinned), types);
  EXPECT_EQ(all_rows(db.main(), *pinned), all_rows(db.main(), detecting));
}

TEST(PinnedReader, IsRefusedWhereDetectionDecidesMoreThanTypes) {
  TempJsonl f(R"({"id": 1, "at": "2024-01-02 03:04:05"})" "\n");
  InputSet set = resolve_inputs({f.path}, std::nullopt);
  // A detected timestamp format would be lost: keep detecting.
  EXPECT_FALSE(pinned_reader_sql(set, {{"id", "BIGINT"}, {"at", "TIMESTAMP"}}).has_value());
  EXPECT_FALSE(pinned_reader_sql(set, {{"id", "BIGINT"}, {"d", "DATE"}}).has_value());
  EXPECT_TRUE(pinned_reader_sql(set, {{"id", "BIGINT"}}).has_value());
  set.format = InputFormat::Csv;  // CSV's sniffer also finds the dialect
  EXPECT_FALSE(pinned_reader_sql(set, {{"id", "BIGINT"}}).has_value());
}
