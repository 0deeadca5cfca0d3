#include "splitship/size.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

#include "splitship/error.hpp"

namespace splitship {

int parse_int(const std::string& text, const std::string& what) {
  try {
    std::size_t used = 0;
    const int v = std::stoi(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  fail(ErrorKind::Usage, what + " '" + text + "' is not a whole number");
}
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

double unit_multiplier(std::string_view unit) {
  static const std::array<std::pair<const char*, double>, 10> units{{
      {"", 1.0}, {"b", 1.0},
      {"kib", 1024.0}, {"mib", 1024.0 * 1024}, {"gib", 1024.0 * 1024 * 1024},
      {"tib", 1024.0 * 1024 * 1024 * 1024},
      {"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
  }};
  const std::string u = lower(unit);
  for (const auto& [name, mult] : units)
    if (u == name) return mult;
  return -1.0;
}

}  // namespace

std::uint64_t parse_size(std::string_view text, std::string_view option) {
  auto bad = [&]() -> std::uint64_t {
    fail(ErrorKind::Usage, "invalid " + std::string(option) + " '" + std::string(text) + "'",
         "use bytes or a number with KiB, MiB, GiB (1024) or KB, MB, GB (1000), e.g. 64MiB");
  };
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return bad();
  double number = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (ec != std::errc() || ptr != text.data() + i) return bad();
  std::string_view unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  const double mult = unit_multiplier(unit);
  if (mult < 0) return bad();
  const double bytes = number * mult;
  if (bytes > 1.8e19) return bad();
  if (mult == 1.0 && number != std::floor(number)) return bad();  // "1.5" bytes makes no sense
  return static_cast<std::uint64_t>(std::llround(bytes));
}

std::string format_size(std::uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) { v /= 1024.0; ++u; }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace splitship
