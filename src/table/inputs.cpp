// Input discovery: files, globs (with **) and folders, expanded once, sorted, with a size and
// mtime fingerprint per file (recorded in the manifest; resume compares it).
#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <filesystem>
#include <set>

#include "splitship/error.hpp"
#include "splitship/fs.hpp"
#include "splitship/table.hpp"

namespace fs = std::filesystem;

namespace splitship {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool has_glob_chars(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

bool is_hidden_name(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && (name[0] == '.' || name[0] == '_');  // .tmp files, _SUCCESS, _journal
}

InputFile stat_input(const std::string& path, std::string_view given) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    fail(ErrorKind::Input, "input not found: " + std::string(given), "check the path, glob or folder");
  if (!S_ISREG(st.st_mode)) fail(ErrorKind::Input, "input is not a regular file: " + path);
  if (::access(path.c_str(), R_OK) != 0)
    fail(ErrorKind::Input, "input is not readable: " + path + ": " + errno_text(errno), "check its permissions");
  const std::int64_t mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return InputFile{absolute_path(path), static_cast<std::uint64_t>(st.st_size), mtime_ns};
}

// The folder before the first path segment holding a wildcard.
std::string glob_base(const std::string& pattern) {
  const auto wild = pattern.find_first_of("*?[");
  const auto slash = pattern.rfind('/', wild);
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : pattern.substr(0, slash);
}

// '**/' matches zero or more folders, as in bash's globstar and DuckDB.
bool matches_globstar(const std::string& pattern, const std::string& path) {
  if (::fnmatch(pattern.c_str(), path.c_str(), 0) == 0) return true;
  const auto pos = pattern.find("**/");
  if (pos == std::string::npos) return false;
  return matches_globstar(pattern.substr(0, pos) + pattern.substr(pos + 3), path);
}

std::vector<std::string> expand_glob(const std::string& pattern) {
  std::vector<std::string> out;
  if (pattern.find("**") != std::string::npos) {
    // '**' crosses folders: walk the base and match the whole path (no FNM_PATHNAME).
    const std::string base = glob_base(pattern);
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(base, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::string p = it->path().string();
      if (base == "." && p.starts_with("./")) p = p.substr(2);
      if (matches_globstar(pattern, p)) out.push_back(p);
    }
    return out;
  }
  glob_t g{};
  if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0)
    for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  globfree(&g);
  return out;
}

std::vector<std::string> expand_folder(const std::string& folder) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (is_hidden_name(it->path())) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && format_from_path(it->path().string())) out.push_back(it->path().string());
  }
  if (ec) fail(ErrorKind::Input, "cannot read folder " + folder + ": " + ec.message());
  return out;
}

std::string path_list_sql(const InputSet& inputs) {
  std::string list = "[";
  for (std::size_t i = 0; i < inputs.files.size(); ++i) list += (i ? ", " : "") + sql_string(inputs.files[i].path);
  return list + "]";
}

}  // namespace

std::string to_string(InputFormat f) {
  switch (f) {
    case InputFormat::Parquet: return "parquet";
    case InputFormat::JsonLines: return "jsonl";
    case InputFormat::Csv: return "csv";
  }
  return "?";
}

std::optional<InputFormat> format_from_name(std::string_view name) {
  const std::string n = lowercase(name);
  if (n == "parquet") return InputFormat::Parquet;
  if (n == "jsonl" || n == "json" || n == "ndjson") return InputFormat::JsonLines;
  if (n == "csv") return InputFormat::Csv;
  return std::nullopt;
}

std::optional<InputFormat> format_from_path(std::string_view path) {
  std::string p = lowercase(path);
  for (const char* comp : {".gz", ".zst"})
    if (ends_with(p, comp)) p.resize(p.size() - std::string_view(comp).size());
  if (ends_with(p, ".parquet") || ends_with(p, ".pq")) return InputFormat::Parquet;
  if (ends_with(p, ".jsonl") || ends_with(p, ".ndjson") || ends_with(p, ".json")) return InputFormat::JsonLines;
  if (ends_with(p, ".csv") || ends_with(p, ".tsv")) return InputFormat::Csv;
  return std::nullopt;
}

std::uint64_t InputSet::total_bytes() const {
  std::uint64_t total = 0;
  for (const auto& f : files) total += f.size;
  return total;
}

InputSet resolve_inputs(const std::vector<std::string>& patterns, std::optional<InputFormat> forced) {
  if (patterns.empty()) fail(ErrorKind::Usage, "no input given", "pass --input PATH (file, glob or folder)");
  InputSet set;
  set.patterns = patterns;
  std::set<std::string> seen;
  for (const auto& pattern : patterns) {
    std::vector<std::string> paths;
    std::error_code ec;
    if (has_glob_chars(pattern)) {
      paths = expand_glob(pattern);
      if (paths.empty()) fail(ErrorKind::Input, "no files match " + pattern, "check the glob");
    } else if (fs::is_directory(pattern, ec)) {
      paths = expand_folder(pattern);
      if (paths.empty())
        fail(ErrorKind::Input, "folder " + pattern + " holds no .parquet, .jsonl or .csv files",
             "point --input at the data files or pass --format");
    } else {
      paths = {pattern};
    }
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) {
      InputFile f = stat_input(p, pattern);
      if (seen.insert(f.path).second) set.files.push_back(std::move(f));
    }
  }
  std::sort(set.files.begin(), set.files.end(), [](const InputFile& a, const InputFile& b) { return a.path < b.path; });

  if (forced) {
    set.format = *forced;
    return set;
  }
  std::optional<InputFormat> common;
  for (const auto& f : set.files) {
    const auto fmt = format_from_path(f.path);
    if (!fmt)
      fail(ErrorKind::Input, "cannot tell the format of " + f.path + " from its extension",
           "pass --format parquet|jsonl|csv");
    if (common && *common != *fmt)
      fail(ErrorKind::Input, "inputs mix formats (" + to_string(*common) + " and " + to_string(*fmt) + ", e.g. " + f.path + ")",
           "export one format at a time or pass --format");
    common = fmt;
  }
  set.format = *common;
  return set;
}

namespace {

bool any_slice(const InputSet& inputs) {
  return std::any_of(inputs.files.begin(), inputs.files.end(), [](const InputFile& f) { return !f.whole(); });
}

// Each slice by its file row numbers, whole files together; unioned by name as
// union_by_name=true does for whole files.
std::string sliced_parquet_sql(const InputSet& inputs) {
  std::vector<std::string> pieces;
  InputSet whole{inputs.format, inputs.patterns, {}};
  for (const auto& f : inputs.files) {
    if (f.whole()) {
      whole.files.push_back(f);
      continue;
    }
    pieces.push_back("SELECT * EXCLUDE (file_row_number) FROM read_parquet(" + sql_string(f.path) +
                     ", file_row_number=true) WHERE file_row_number >= " + std::to_string(f.row_begin) +
                     " AND file_row_number < " + std::to_string(f.row_end));
  }
  if (!whole.files.empty())
    pieces.insert(pieces.begin(), "SELECT * FROM read_parquet(" + path_list_sql(whole) + ", union_by_name=true)");
  std::string sql;
  for (std::size_t i = 0; i < pieces.size(); ++i) sql += (i ? " UNION ALL BY NAME " : "") + pieces[i];
  return "(" + sql + ")";
}

struct RowGroup {
  std::size_t file;
  std::uint64_t first_row, rows;
};

std::vector<RowGroup> row_groups_of(const InputSet& set, DuckDb& db) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < set.files.size(); ++i) index[set.files[i].path] = i;
  QueryResult r = db.query("SELECT file_name, row_group_id, any_value(row_group_num_rows) FROM parquet_metadata(" +
                           path_list_sql(set) + ") GROUP BY ALL ORDER BY ALL");
  std::vector<RowGroup> groups;
  for (std::uint64_t row = 0; row < r.rows(); ++row) {
    auto it = index.find(r.text(0, row));
    if (it == index.end()) fail(ErrorKind::Internal, "parquet_metadata named an unknown file " + r.text(0, row));
    groups.push_back({it->second, 0, static_cast<std::uint64_t>(r.int64(2, row))});
  }
  std::sort(groups.begin(), groups.end(), [](const RowGroup& a, const RowGroup& b) { return a.file < b.file; });
  std::uint64_t next = 0;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (g == 0 || groups[g].file != groups[g - 1].file) next = 0;
    groups[g].first_row = next;
    next += groups[g].rows;
  }
  return groups;
}

}  // namespace

std::uint64_t parquet_rows(const InputSet& set, DuckDb& db) {
  if (set.files.empty()) return 0;
  QueryResult r = db.query("SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(" + path_list_sql(set) + ")");
  return static_cast<std::uint64_t>(r.int64(0, 0));
}

InputSet slice_inputs(const InputSet& set, int index, int count, DuckDb& db) {
  InputSet out{set.format, set.patterns, {}};
  const auto n = static_cast<std::size_t>(count), i = static_cast<std::size_t>(index);
  if (set.files.size() >= n || set.format != InputFormat::Parquet) {
    for (std::size_t f = i; f < set.files.size(); f += n) out.files.push_back(set.files[f]);
    return out;
  }
  const std::vector<RowGroup> groups = row_groups_of(set, db);
  // Row group g goes to shard floor(g * count / groups): contiguous runs, sizes within one.
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (g * n / groups.size() != i) continue;
    const RowGroup& rg = groups[g];
    if (!out.files.empty() && out.files.back().path == set.files[rg.file].path && out.files.back().row_end == rg.first_row) {
      out.files.back().row_end += rg.rows;
      continue;
    }
    InputFile slice = set.files[rg.file];
    slice.row_begin = rg.first_row;
    slice.row_end = rg.first_row + rg.rows;
    out.files.push_back(slice);
  }
  return out;
}

std::optional<std::string> pinned_reader_sql(const InputSet& inputs,
                                             const std::vector<std::pair<std::string, std::string>>& columns) {
  if (inputs.format != InputFormat::JsonLines || columns.empty()) return std::nullopt;
  std::string spec;
  for (const auto& [name, type] : columns) {
    if (type.find("DATE") != std::string::npos || type.find("TIME") != std::string::npos) return std::nullopt;
    spec += (spec.empty() ? "" : ", ") + sql_string(name) + ": " + sql_string(type);
  }
  return "read_json(" + path_list_sql(inputs) + ", format='newline_delimited', columns={" + spec + "})";
}

std::string reader_sql(const InputSet& inputs) {
  if (inputs.format == InputFormat::Parquet && any_slice(inputs)) return sliced_parquet_sql(inputs);
  const std::string files = path_list_sql(inputs);
  switch (inputs.format) {
    case InputFormat::Parquet:
      return "read_parquet(" + files + ", union_by_name=true)";
    case InputFormat::JsonLines:
      return "read_json(" + files + ", format='newline_delimited', union_by_name=true)";
    case InputFormat::Csv:
      return "read_csv(" + files + ", header=true, union_by_name=true)";
  }
  fail(ErrorKind::Internal, "unknown input format");
}

}  // namespace splitship
