#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/types.h>

#include "splitship/table.hpp"

using namespace splitship;

namespace {
using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);

ssize_t read_decay(Mallctl mallctl, const char* name) {
  ssize_t value = -2;
  std::size_t len = sizeof value;
  EXPECT_EQ(mallctl(name, &value, &len, nullptr, 0), 0) << name;
  return value;
}
}  // namespace

// Opening a database keeps DuckDB's freed pages for 5 s (the export's Parquet writers spent a
// third of their time re-faulting pages returned after 1 s). The DuckDB we pin bundles
// jemalloc; if a new version drops it, this test says the tuning is gone.
TEST(DuckDbAllocator, OpeningADatabaseKeepsFreedPagesFiveSeconds) {
  DuckDb db("", DuckDbSettings{});
  db.execute("CREATE TABLE t AS SELECT range AS x FROM range(100000)");
  const auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "duckdb_je_mallctl"));
  ASSERT_NE(mallctl, nullptr) << "the pinned DuckDB no longer exports its jemalloc control";
  EXPECT_EQ(read_decay(mallctl, "arenas.dirty_decay_ms"), 5000);
  EXPECT_EQ(read_decay(mallctl, "arenas.muzzy_decay_ms"), 0);
  EXPECT_EQ(read_decay(mallctl, "arena.0.dirty_decay_ms"), 5000);
}
