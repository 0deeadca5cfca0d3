#include <csignal>
#include <cstdio>

#include "cli/commands.hpp"

namespace {

// The one piece of process-wide state: the signal handler needs somewhere to write.
splitship::CancelToken* g_cancel = nullptr;

void on_interrupt(int) {
  if (g_cancel) g_cancel->cancel();
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C kills at once
  std::signal(SIGTERM, SIG_DFL);
}

}  // namespace

int main(int argc, char** argv) {
  splitship::CancelToken cancel;
  g_cancel = &cancel;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  // Parts stream through pipes; a reader that stops early must surface as an error, not a kill.
  std::signal(SIGPIPE, SIG_IGN);
  return splitship::cli::run(argc, argv, cancel);
}
