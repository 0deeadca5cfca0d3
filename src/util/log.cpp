#include <ctime>

#include "splitship/log.hpp"

namespace splitship {

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string utc_now_basic() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string utc_now_iso8601() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return iso8601_utc(ts);
}

std::string iso8601_utc(const timespec& ts) {
  std::tm tm{};
  gmtime_r(&ts.tv_sec, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%03ldZ", buf, ts.tv_nsec / 1000000);
  return out;
}

void Logger::emit(LogLevel min_level, const char* level_name, const std::string& msg, const LogFields& fields) {
  if (level_ < min_level) return;
  std::lock_guard lock(mutex_);
  if (format_ == LogFormat::Json) {
    std::string line = "{\"ts\":\"" + utc_now_iso8601() + "\",\"level\":\"" + level_name + "\",\"msg\":\"" + json_escape(msg) + "\"";
    for (const auto& [k, v] : fields) line += ",\"" + json_escape(k) + "\":\"" + json_escape(v) + "\"";
    line += "}\n";
    std::fputs(line.c_str(), out_);
  } else {
    std::string line = std::string(level_name) == "info" ? "" : std::string(level_name) + ": ";
    line += msg;
    for (const auto& [k, v] : fields) line += " " + k + "=" + v;
    if (clear_line_) std::fputs("\r\033[K", out_);
    std::fputs((line + "\n").c_str(), out_);
  }
  std::fflush(out_);
}

}  // namespace splitship
