#include <ctime>

#include "splitship/error.hpp"
#include "splitship/export.hpp"
#include "splitship/log.hpp"
#include "splitship/fs.hpp"

#ifndef SPLITSHIP_VERSION
#define SPLITSHIP_VERSION "0.0.0"
#endif

namespace splitship {

std::string tool_version() { return SPLITSHIP_VERSION; }

std::string make_run_id() {
  return utc_now_basic() + "-" + random_suffix(6);
}

void validate_run_id(const std::string& run_id) {
  bool ok = !run_id.empty() && run_id.size() <= 128 && run_id.find("..") == std::string::npos &&
            run_id[0] != '.' && run_id[0] != '_' && run_id[0] != '-';
  for (char c : run_id) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  if (!ok)
    fail(ErrorKind::Usage, "invalid run id '" + run_id + "'",
         "use letters, digits, '.', '_' and '-' (no '/', no '..', not starting with '.', '_' or '-')");
}

}  // namespace splitship
