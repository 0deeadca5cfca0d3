// bench helper: runs SQL statements with DuckDB (the same library splitship links) and prints
// the last result as tab-separated lines. It is how the benchmark plays "a user who writes the
// splits with DuckDB"; no splitship code is involved.
//   duckdb_sql [--db FILE] 'SQL' ['SQL' ...]
#include <duckdb.h>

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  const char* path = nullptr;
  int first = 1;
  if (argc > 2 && std::strcmp(argv[1], "--db") == 0) {
    path = argv[2];
    first = 3;
  }
  duckdb_database db;
  duckdb_connection con;
  if (duckdb_open(path, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError) {
    std::fprintf(stderr, "duckdb_sql: cannot open database\n");
    return 1;
  }
  int rc = 0;
  for (int i = first; i < argc && rc == 0; ++i) {
    duckdb_result result;
    if (duckdb_query(con, argv[i], &result) == DuckDBError) {
      std::fprintf(stderr, "duckdb_sql: %s\n", duckdb_result_error(&result));
      rc = 1;
    } else if (i + 1 == argc) {
      const idx_t cols = duckdb_column_count(&result), rows = duckdb_row_count(&result);
      for (idx_t r = 0; r < rows; ++r)
        for (idx_t c = 0; c < cols; ++c) {
          char* v = duckdb_value_varchar(&result, c, r);
          std::printf("%s%s", v ? v : "NULL", c + 1 == cols ? "\n" : "\t");
          duckdb_free(v);
        }
    }
    duckdb_destroy_result(&result);
  }
  duckdb_disconnect(&con);
  duckdb_close(&db);
  return rc;
}
