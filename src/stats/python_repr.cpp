// CPython's str.__repr__, so the stats checksum input is byte-for-byte what Python builds.
// Printability of non-ASCII characters follows Unicode categories Cc, Cf, Cs, Co, Zl, Zp and
// Zs (except space) as listed below; unassigned code points are treated as printable (CPython
// escapes them), which only matters for names using characters Unicode has not assigned yet.
#include <cstdio>

#include "splitship/stats.hpp"

namespace splitship {
namespace {

struct Range {
  char32_t lo, hi;
};

// Non-printable code points above U+007F (Unicode 15 categories Cc, Cf, Zs, Zl, Zp, Cs, Co).
constexpr Range kNonPrintable[] = {
    {0x0080, 0x00A0}, {0x00AD, 0x00AD}, {0x0600, 0x0605}, {0x061C, 0x061C}, {0x06DD, 0x06DD},
    {0x070F, 0x070F}, {0x0890, 0x0891}, {0x08E2, 0x08E2}, {0x1680, 0x1680}, {0x180E, 0x180E},
    {0x2000, 0x200F}, {0x2028, 0x202F}, {0x205F, 0x2064}, {0x2066, 0x206F}, {0x3000, 0x3000},
    {0xD800, 0xF8FF}, {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB}, {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
    {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
};

bool printable(char32_t c) {
  for (const auto& r : kNonPrintable)
    if (c >= r.lo && c <= r.hi) return false;
  return true;
}

// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i. Invalid bytes
// decode as themselves (DuckDB strings are valid UTF-8, so this is only defensive).
char32_t next_code_point(std::string_view s, std::size_t& i, std::size_t& len) {
  const auto b = static_cast<unsigned char>(s[i]);
  len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
  if (i + len > s.size()) len = 1;
  char32_t c = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (std::size_t k = 1; k < len; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += len;
  return c;
}

}  // namespace

std::string python_repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  char buf[16];
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t start = i;
    std::size_t len = 0;
    const char32_t c = next_code_point(s, i, len);
    if (c == static_cast<char32_t>(quote) || c == U'\\') { out += '\\'; out += static_cast<char>(c); }
    else if (c == U'\t') out += "\\t";
    else if (c == U'\n') out += "\\n";
    else if (c == U'\r') out += "\\r";
    else if (c < 0x20 || c == 0x7F) { std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c)); out += buf; }
    else if (c < 0x7F || printable(c)) out.append(s.substr(start, len));
    else if (c <= 0xFF) { std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c)); out += buf; }
    else if (c <= 0xFFFF) { std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c)); out += buf; }
    else { std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(c)); out += buf; }
  }
  out += quote;
  return out;
}

}  // namespace splitship
