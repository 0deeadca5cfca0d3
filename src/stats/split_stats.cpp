#include "splitship/hash.hpp"
#include "splitship/stats.hpp"

namespace splitship {

std::string stats_checksum_input(const SplitStats& stats) {
  std::string names = "[";
  for (std::size_t i = 0; i < stats.schema_fields.size(); ++i)
    names += (i ? ", " : "") + python_repr(stats.schema_fields[i].name);
  names += "]";
  std::string roles = "[";
  bool first = true;
  for (const auto& [role, count] : stats.role_distribution) {  // std::map: byte order == code point order
    roles += (first ? "(" : ", (") + python_repr(role) + ", " + std::to_string(count) + ")";
    first = false;
  }
  roles += "]";
  return std::to_string(stats.num_documents) + ":" + names + ":" + std::to_string(stats.feature_length()) + ":" + roles;
}

std::string stats_checksum(const SplitStats& stats) {
  return "md5:" + to_hex(Md5::of(stats_checksum_input(stats)));
}

}  // namespace splitship
