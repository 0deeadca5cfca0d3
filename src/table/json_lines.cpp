// Naming the bad line of a JSON Lines file exactly. DuckDB reports malformed JSON with a line
// number that is sometimes one past the bad line, so we re-check the lines around it ourselves.
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "splitship/table.hpp"

namespace splitship {

std::optional<std::uint64_t> first_bad_json_line(const std::string& path, std::uint64_t from_line,
                                                 std::uint64_t max_lines) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  for (std::uint64_t n = 1; std::getline(in, line); ++n) {
    if (n < from_line) continue;
    if (n >= from_line + max_lines) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines are skipped by readers
    if (!nlohmann::json::accept(line)) return n;
  }
  return std::nullopt;
}

std::string describe_read_error(const std::string& message, const InputSet& inputs) {
  static const std::regex malformed_json(R"re(Malformed JSON in file "([^"]+)", at byte \d+ in (?:line|record/value) (\d+): (.*))re");
  std::smatch m;
  if (std::regex_search(message, m, malformed_json)) {
    const std::string file = m[1];
    const std::uint64_t reported = std::stoull(m[2]);
    const std::uint64_t from = reported > 1 ? reported - 1 : 1;
    const auto bad = first_bad_json_line(file, from, 3);
    std::string detail = m[3];
    while (!detail.empty() && (detail.back() == ' ' || detail.back() == '.')) detail.pop_back();
    return file + ":" + std::to_string(bad.value_or(reported)) + ": malformed JSON (" + detail +
           ") — fix or remove that line";
  }
  if (inputs.format == InputFormat::Parquet) {
    std::string msg = message;
    if (auto pos = msg.find("Error: "); pos != std::string::npos && pos < 40) msg = msg.substr(pos + 7);
    return "corrupt or unreadable Parquet input: " + msg + " — re-create the file or leave it out";
  }
  std::string files;
  if (inputs.files.size() == 1) files = " " + inputs.files.front().path;
  return "cannot read input" + files + ": " + message;
}

}  // namespace splitship
