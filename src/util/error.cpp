#include "splitship/error.hpp"

#include <cstring>

namespace splitship {

std::string Error::one_line() const {
  std::string line = what();
  if (!hint_.empty()) line += " — " + hint_;
  // A single line, whatever the underlying library put in its message.
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  return line;
}

int Error::exit_code() const noexcept {
  switch (kind_) {
    case ErrorKind::Usage:
    case ErrorKind::Input:
    case ErrorKind::Destination:
      return 2;
    case ErrorKind::Cancelled:
      return 130;
    default:
      return 1;
  }
}

std::string errno_text(int err) { return std::strerror(err); }

void rethrow_root_cause(const std::vector<std::exception_ptr>& errors, bool user_interrupted,
                        const std::string& interrupted_message) {
  std::exception_ptr first;
  for (const auto& e : errors) {
    if (!e) continue;
    if (user_interrupted) fail(ErrorKind::Cancelled, interrupted_message);
    if (!first) first = e;
    try {
      std::rethrow_exception(e);
    } catch (const Error& err) {
      if (err.kind() != ErrorKind::Cancelled) throw;
    } catch (...) {
      throw;
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace splitship
