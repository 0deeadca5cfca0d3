#include <cstdio>

#include "splitship/log.hpp"
#include "splitship/size.hpp"

namespace splitship {
namespace {

std::string bar(double fraction, int width) {
  if (fraction < 0) fraction = 0;
  if (fraction > 1) fraction = 1;
  const int filled = static_cast<int>(fraction * width + 0.5);
  return std::string(static_cast<std::size_t>(filled), '#') + std::string(static_cast<std::size_t>(width - filled), '.');
}

std::string eta_text(double seconds) {
  if (seconds < 0 || seconds > 360000) return "--:--";
  char buf[16];
  const int s = static_cast<int>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%02d:%02d", s / 60, s % 60);
  return buf;
}

}  // namespace

void TerminalProgress::update(const ProgressSnapshot& snap) {
  std::lock_guard lock(mutex_);
  std::string text;
  for (std::size_t i = 0; i < lines_drawn_; ++i) text += "\033[1A\r\033[K";  // move up over the old block
  char line[256];
  if (snap.phase == "reading") {
    std::snprintf(line, sizeof line, "reading  [%s] %5.1f%%  %5.1fs\n", bar(snap.phase_fraction, 30).c_str(),
                  snap.phase_fraction < 0 ? 0.0 : snap.phase_fraction * 100, snap.elapsed_s);
    text += line;
    lines_drawn_ = 1;
  } else if (snap.phase == "uploading") {
    const auto& t = snap.transfer;
    const double frac = t.bytes_total ? static_cast<double>(t.bytes_done) / static_cast<double>(t.bytes_total) : 1.0;
    const double rate = snap.elapsed_s > 0 ? static_cast<double>(t.bytes_done) / snap.elapsed_s : 0;
    const double eta = frac > 0 && frac < 1 ? snap.elapsed_s * (1 - frac) / frac : (frac >= 1 ? 0 : -1);
    std::snprintf(line, sizeof line, "uploading [%s] %llu/%llu files  %10s/%-10s  %9s/s  ETA %s\n", bar(frac, 24).c_str(),
                  static_cast<unsigned long long>(t.files_done), static_cast<unsigned long long>(t.files_total),
                  format_size(t.bytes_done).c_str(), format_size(t.bytes_total).c_str(),
                  format_size(static_cast<std::uint64_t>(rate)).c_str(), eta_text(eta).c_str());
    text += line;
    lines_drawn_ = 1;
  } else {
    lines_drawn_ = 0;
    for (const auto& s : snap.splits) {
      // A streamed split's size is known at its end: until then it is as far as the reading.
      const double frac = !s.rows_known ? snap.phase_fraction
                          : s.rows_total ? static_cast<double>(s.rows_done) / static_cast<double>(s.rows_total)
                                         : 1.0;
      const double rate = snap.elapsed_s > 0 ? static_cast<double>(s.bytes_done) / snap.elapsed_s : 0;
      const double eta = frac > 0 && frac < 1 ? snap.elapsed_s * (1 - frac) / frac : (frac >= 1 ? 0 : -1);
      const std::string total = s.rows_known ? std::to_string(s.rows_total) : "?";
      std::snprintf(line, sizeof line, "%-12.12s [%s] %10llu/%-10s rows  %10s  %9s/s  ETA %s\n", s.name.c_str(),
                    bar(frac, 24).c_str(), static_cast<unsigned long long>(s.rows_done), total.c_str(),
                    format_size(s.bytes_done).c_str(),
                    format_size(static_cast<std::uint64_t>(rate)).c_str(), eta_text(eta).c_str());
      text += line;
      ++lines_drawn_;
    }
  }
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

void TerminalProgress::finish() {
  std::lock_guard lock(mutex_);
  lines_drawn_ = 0;
}

}  // namespace splitship
