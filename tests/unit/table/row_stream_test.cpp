#include <gtest/gtest.h>

#include <thread>

#include "splitship/error.hpp"
#include "splitship/table.hpp"

using namespace splitship;

namespace {
// 10,000 rows: x, and lane x % 3 (the lane column comes last).
const std::string kSource = "SELECT range AS x, 'r' || range AS s, CAST(range % 3 AS USMALLINT) AS lane FROM range(10000)";

std::vector<std::int64_t> column(QueryResult& r) {
  std::vector<std::int64_t> out;
  for (std::uint64_t i = 0; i < r.rows(); ++i) out.push_back(r.int64(0, i));
  return out;
}
}  // namespace

// Each lane gets its rows in the source's order, in pieces of the size asked for; the tee lane
// gets every row; the counts add up. Queues of 2 chunks force the producer to wait on them.
TEST(RowStream, EveryLaneGetsItsRowsInOrderWhileTheQueryRuns) {
  DuckDb db("", DuckDbSettings{"", 1, ""});
  db.execute("SET threads = 1");
  RowStream rows(db.main(), 3, /*tee=*/true, /*queue_chunks=*/2);
  std::vector<std::vector<std::int64_t>> got(3);
  std::vector<std::size_t> pieces(3);
  std::int64_t tee_sum = -1;
  std::vector<std::thread> consumers;
  for (std::size_t lane = 0; lane < 3; ++lane)
    consumers.emplace_back([&, lane] {
      auto con = db.connect();
      do {
        QueryResult r = con->query("SELECT x FROM " + rows.next_rows_sql(lane, 1000));
        EXPECT_LE(r.rows(), 1000u);
        for (auto v : column(r)) got[lane].push_back(v);
        ++pieces[lane];
      } while (!rows.at_end(lane));
    });
  consumers.emplace_back([&] {
    auto con = db.connect();
    QueryResult r = con->query("SELECT sum(x), count(DISTINCT s) FROM " + rows.next_rows_sql(3, 0));
    tee_sum = r.int64(0, 0);
    EXPECT_EQ(r.int64(1, 0), 10000);
  });
  rows.produce(db.main(), kSource, 2);
  for (auto& t : consumers) t.join();
  EXPECT_EQ(tee_sum, 10000 * 9999 / 2);
  for (std::size_t lane = 0; lane < 3; ++lane) {
    std::vector<std::int64_t> want;
    for (std::int64_t x = static_cast<std::int64_t>(lane); x < 10000; x += 3) want.push_back(x);
    EXPECT_EQ(got[lane], want) << "lane " << lane;
    EXPECT_EQ(rows.rows_taken(lane), want.size());
    EXPECT_EQ(pieces[lane], (want.size() + 999) / 1000);
  }
}

// A resume drops the rows of finished parts: the next piece starts after them.
TEST(RowStream, DiscardedRowsAreSkipped) {
  DuckDb db("", DuckDbSettings{"", 1, ""});
  RowStream rows(db.main(), 1, /*tee=*/false, 2);
  std::vector<std::int64_t> rest;
  std::uint64_t dropped = 0;
  std::thread consumer([&] {
    auto con = db.connect();
    dropped = rows.discard(0, 2500);
    QueryResult r = con->query("SELECT x FROM " + rows.next_rows_sql(0, 0));
    rest = column(r);
  });
  rows.produce(db.main(), "SELECT range AS x, CAST(0 AS USMALLINT) AS lane FROM range(5000)", 1);
  consumer.join();
  EXPECT_EQ(dropped, 2500u);
  ASSERT_EQ(rest.size(), 2500u);
  EXPECT_EQ(rest.front(), 2500);
  EXPECT_EQ(rest.back(), 4999);
}

// A consumer that fails closes the stream: the producer, waiting on a full lane, stops with
// Cancelled instead of waiting for ever, and another consumer's query fails.
TEST(RowStream, ClosingStopsTheProducerAndTheOtherConsumers) {
  DuckDb db("", DuckDbSettings{"", 1, ""});
  RowStream rows(db.main(), 2, /*tee=*/false, 1);
  std::string other_error;
  std::thread other([&] {
    auto con = db.connect();
    try {
      con->query("SELECT count(*) FROM " + rows.next_rows_sql(1, 0));
    } catch (const Error& e) {
      other_error = e.what();
    }
  });
  std::thread closer([&] {
    // Lane 0 has no reader: the producer fills it and waits; then the failure closes all.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    rows.close();
  });
  try {
    rows.produce(db.main(), "SELECT range AS x, CAST(range % 2 AS USMALLINT) AS lane FROM range(1000000)", 1);
    ADD_FAILURE() << "the producer finished without its lane 0 being read";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Cancelled);
  }
  closer.join();
  other.join();
  EXPECT_NE(other_error.find("stopped"), std::string::npos) << other_error;
  EXPECT_TRUE(rows.closed());
}

// A row whose lane is out of range is a bug of the caller's query, reported, not dropped.
TEST(RowStream, ARowWithoutALaneIsAnError) {
  DuckDb db("", DuckDbSettings{"", 1, ""});
  RowStream rows(db.main(), 2, /*tee=*/false, 4);
  EXPECT_THROW(rows.produce(db.main(), "SELECT range AS x, CAST(5 AS USMALLINT) AS lane FROM range(10)", 1), Error);
  EXPECT_TRUE(rows.closed());
}
