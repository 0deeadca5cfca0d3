#include <gtest/gtest.h>

#include "splitship/error.hpp"
#include "splitship/size.hpp"

using splitship::parse_size;

TEST(ParseSize, BytesAndBinaryAndDecimalUnits) {
  EXPECT_EQ(parse_size("1048576"), 1048576u);
  EXPECT_EQ(parse_size("64MiB"), 64ull << 20);
  EXPECT_EQ(parse_size("64mib"), 64ull << 20);
  EXPECT_EQ(parse_size("1KiB"), 1024u);
  EXPECT_EQ(parse_size("2GiB"), 2ull << 30);
  EXPECT_EQ(parse_size("1KB"), 1000u);
  EXPECT_EQ(parse_size("5MB"), 5000000u);
  EXPECT_EQ(parse_size("1.5GB"), 1500000000u);
  EXPECT_EQ(parse_size("0.5MiB"), 512u * 1024);
  EXPECT_EQ(parse_size("10 MiB"), 10ull << 20);
}

TEST(ParseSize, RejectsNonsenseWithTheOptionName) {
  for (const char* bad : {"", "MiB", "12XB", "-5", "1.5", "abc", "1e3"}) {
    try {
      parse_size(bad, "--part-size");
      FAIL() << "accepted " << bad;
    } catch (const splitship::Error& e) {
      EXPECT_EQ(e.kind(), splitship::ErrorKind::Usage);
      EXPECT_NE(std::string(e.what()).find("--part-size"), std::string::npos);
    }
  }
}

TEST(FormatSize, HumanUnits) {
  EXPECT_EQ(splitship::format_size(512), "512 B");
  EXPECT_EQ(splitship::format_size(1536), "1.5 KiB");
  EXPECT_EQ(splitship::format_size(3ull << 30), "3.0 GiB");
}
