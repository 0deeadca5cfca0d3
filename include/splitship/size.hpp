// Byte sizes as users type them: "1048576", "64MiB", "1.5GB".
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace splitship {

// Parses bytes or a number with a unit: KiB/MiB/GiB/TiB (powers of 1024), KB/MB/GB/TB
// (powers of 1000), B. Case-insensitive units; throws Error(Usage) naming `option`.
// A whole number (an int), or Error(Usage) naming `what`.
int parse_int(const std::string& text, const std::string& what);

std::uint64_t parse_size(std::string_view text, std::string_view option = "size");

// 1536 -> "1.5 KiB"; for tables and progress.
std::string format_size(std::uint64_t bytes);

}  // namespace splitship
