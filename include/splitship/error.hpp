// Typed errors with context. Library code throws splitship::Error; the CLI catches it once,
// prints one line and exits with its code.
#pragma once
#include <stdexcept>
#include <exception>
#include <string>
#include <vector>

namespace splitship {

enum class ErrorKind {
  Usage,        // flags that do not make sense together, bad values
  Input,        // missing/unreadable/malformed input data
  Destination,  // destination not writable, run already published
  Store,        // the store failed (I/O, network)
  Integrity,    // a checksum or ETag did not match
  Cancelled,    // the run was interrupted
  Internal,     // a bug: should never happen
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::string hint = {})
      : std::runtime_error(std::move(message)), kind_(kind), hint_(std::move(hint)) {}
  ErrorKind kind() const noexcept { return kind_; }
  const std::string& hint() const noexcept { return hint_; }
  // The one line the CLI prints: message, then the hint after " — " when there is one.
  std::string one_line() const;
  // Process exit code: 2 for every error the user can fix, 130 when interrupted, 1 otherwise.
  int exit_code() const noexcept;

 private:
  ErrorKind kind_;
  std::string hint_;
};

[[noreturn]] inline void fail(ErrorKind kind, std::string message, std::string hint = {}) {
  throw Error(kind, std::move(message), std::move(hint));
}

// Workers that stop each other on the first failure each end with an error; the others'
// only say they were interrupted. Rethrows the first error that is not Cancelled, else the
// first one; returns when there is none. When the user interrupted the run, that is the
// cause whatever the workers failed with once it stopped them (a pipe closed under DuckDB,
// a cancelled request): a Cancelled error with interrupted_message is thrown instead.
void rethrow_root_cause(const std::vector<std::exception_ptr>& errors, bool user_interrupted = false,
                        const std::string& interrupted_message = "interrupted");

// "strerror(errno)" as a string, for messages.
std::string errno_text(int err);

}  // namespace splitship
