#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

#include "splitship/error.hpp"
#include "splitship/hash.hpp"
#include "splitship/table.hpp"

namespace splitship {
namespace {

constexpr double kTwo64 = 18446744073709551616.0;

// Python's h / 2**64 for an int h < 2**64: h rounded to the nearest double, scaled (exact).
double unit_of(std::uint64_t h) { return static_cast<double>(h) / kTwo64; }

// Smallest h with unit_of(h) >= cumulative, or nullopt when no 64-bit h reaches it.
std::optional<std::uint64_t> first_h_reaching(double cumulative) {
  constexpr std::uint64_t kMax = ~0ULL;
  if (unit_of(kMax) < cumulative) return std::nullopt;
  std::uint64_t lo = 0, hi = kMax;  // unit_of is non-decreasing in h: binary search
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    if (unit_of(mid) >= cumulative) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

std::string hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

void validate_split_name(std::string_view name, std::string_view where) {
  bool ok = !name.empty() && name.size() <= 128 && name[0] != '_' && name[0] != '.';
  for (char c : name)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  if (!ok)
    fail(ErrorKind::Usage, "invalid split name '" + std::string(name) + "' in " + std::string(where),
         "split names become folder names: use letters, digits, '.', '_' or '-', not starting with '_' or '.'");
}

std::vector<WeightedSplit> parse_split_weights(std::string_view text) {
  std::vector<WeightedSplit> out;
  std::set<std::string> names;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos)
      fail(ErrorKind::Usage, "--split item '" + std::string(item) + "' is not NAME=WEIGHT", "e.g. --split train=0.8,val=0.1,test=0.1");
    const std::string name(item.substr(0, eq));
    const std::string_view weight_text = item.substr(eq + 1);
    validate_split_name(name, "--split");
    double weight = 0;
    auto [ptr, ec] = std::from_chars(weight_text.data(), weight_text.data() + weight_text.size(), weight);
    if (ec != std::errc() || ptr != weight_text.data() + weight_text.size() || !std::isfinite(weight) || weight <= 0)
      fail(ErrorKind::Usage, "--split: weight of split '" + name + "' is '" + std::string(weight_text) + "', not a positive number",
           "weights are positive numbers, normalised by their sum, e.g. train=8,val=1,test=1");
    if (!names.insert(name).second) fail(ErrorKind::Usage, "split '" + name + "' is named twice in --split", "give each split once");
    out.push_back({name, weight});
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

HashSplitRule::HashSplitRule(std::vector<WeightedSplit> splits, std::int64_t seed)
    : splits_(std::move(splits)), seed_(seed) {
  if (splits_.empty()) fail(ErrorKind::Usage, "no splits given");
  double total = 0;
  for (const auto& s : splits_) total += s.weight;
  // Same arithmetic as the documented Python: cum += w / total, in the order given.
  double cumulative = 0;
  for (std::size_t i = 0; i < splits_.size(); ++i) {
    cumulative += splits_[i].weight / total;
    thresholds_.push_back(i + 1 == splits_.size() ? std::nullopt : first_h_reaching(cumulative));
  }
}

std::size_t HashSplitRule::assign(std::string_view key_text) const {
  const std::string input = std::to_string(seed_) + ":" + std::string(key_text);
  const Md5Digest d = Md5::of(input);
  std::uint64_t h = 0;
  for (int i = 0; i < 8; ++i) h = (h << 8) | d[i];
  for (std::size_t i = 0; i < thresholds_.size(); ++i)
    if (!thresholds_[i] || h < *thresholds_[i]) return i;
  return thresholds_.size() - 1;
}

std::string HashSplitRule::hash_sql(const std::string& key_sql) const {
  // A NULL key hashes as Python's f"{None}" does.
  return "substr(md5(" + sql_string(std::to_string(seed_) + ":") + " || coalesce(CAST(" + key_sql +
         " AS VARCHAR), 'None')), 1, 16)";
}

std::string HashSplitRule::index_sql(const std::string& hash_column) const {
  // Lowercase hex of equal length orders as the numbers do. The first split whose threshold
  // is unreachable (always the last; earlier when the cumulative weight rounds to 1) takes
  // everything left, as assign() does.
  std::string whens;
  std::size_t i = 0;
  for (; thresholds_[i]; ++i)
    whens += " WHEN " + hash_column + " < '" + hex16(*thresholds_[i]) + "' THEN " + std::to_string(i);
  return whens.empty() ? std::to_string(i) : "CASE" + whens + " ELSE " + std::to_string(i) + " END";
}

}  // namespace splitship
