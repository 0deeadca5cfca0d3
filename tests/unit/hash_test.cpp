#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>

#include "splitship/hash.hpp"

using namespace splitship;

namespace {
std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}
std::uint64_t bitwise_crc64(const std::vector<std::uint8_t>& v) {
  return ~Crc64Nvme::update_bitwise(~0ULL, v.data(), v.size());
}
}  // namespace

TEST(Crc64Nvme, CheckValue) {
  EXPECT_EQ(Crc64Nvme::of("123456789"), 0xae8b14860a799888ULL);
  EXPECT_EQ(Crc64Nvme::of(""), 0ULL);
}

TEST(Crc64Nvme, EveryImplementationMatchesTheBitwiseDefinition) {
  ASSERT_TRUE(Crc64Nvme::clmul_available()) << "these machines have PCLMULQDQ; the fast path must be tested";
  // Lengths around every folding boundary (16, 64 bytes) and long buffers.
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 300; ++n) lengths.push_back(n);
  for (std::size_t n : {1000u, 4095u, 4096u, 65537u, 1000003u}) lengths.push_back(n);
  for (std::size_t n : lengths) {
    const auto v = random_bytes(n, static_cast<std::uint32_t>(n));
    const std::uint64_t want = bitwise_crc64(v);
    ASSERT_EQ(~Crc64Nvme::update_table(~0ULL, v.data(), v.size()), want) << "table, n=" << n;
    ASSERT_EQ(~Crc64Nvme::update_clmul(~0ULL, v.data(), v.size()), want) << "clmul, n=" << n;
  }
}

TEST(Crc64Nvme, ChunkingDoesNotMatter) {
  const auto v = random_bytes(1 << 20, 7);
  const std::uint64_t whole = bitwise_crc64(v);
  std::mt19937 rng(3);
  Crc64Nvme c;
  std::size_t pos = 0;
  while (pos < v.size()) {
    const std::size_t n = std::min<std::size_t>(v.size() - pos, rng() % 5000);
    c.update(v.data() + pos, n);
    pos += n;
  }
  EXPECT_EQ(c.value(), whole);
}

TEST(Crc64Nvme, Base64IsBigEndianBytes) {
  // S3 spells CRC64NVME("123456789") as base64 of ae 8b 14 86 0a 79 98 88.
  EXPECT_EQ(crc64_to_base64(0xae8b14860a799888ULL), "rosUhgp5mIg=");
}

TEST(Crc32c, CheckValue) {
  EXPECT_EQ(Crc32c::of("123456789"), 0xe3069283u);
  Crc32c c;
  c.update("1234", 4);
  c.update("56789", 5);
  EXPECT_EQ(c.value(), 0xe3069283u);
}

TEST(Md5Sha256, KnownVectors) {
  EXPECT_EQ(to_hex(Md5::of("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(to_hex(Md5::of("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(to_hex(Sha256::of("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(MultiHasher, MatchesEachHashAlone) {
  const auto v = random_bytes(3'000'001, 11);
  MultiHasher m;
  m.update(v.data(), 1000);
  m.update(v.data() + 1000, v.size() - 1000);
  const ObjectDigests d = m.finish();
  const std::string_view all(reinterpret_cast<const char*>(v.data()), v.size());
  EXPECT_EQ(d.size, v.size());
  EXPECT_EQ(d.md5, Md5::of(all));
  EXPECT_EQ(d.sha256, Sha256::of(all));
  EXPECT_EQ(d.crc64nvme, bitwise_crc64(v));
  EXPECT_EQ(d.crc32c, Crc32c::of(all));
}

TEST(Etag, MultipartIsMd5OfPartMd5sWithCount) {
  // The multipart ETag rule, rebuilt by hand from two parts' digests.
  EtagBuilder b;
  const auto p1 = random_bytes(100, 1), p2 = random_bytes(200, 2);
  const Md5Digest m1 = Md5::of({reinterpret_cast<const char*>(p1.data()), p1.size()});
  const Md5Digest m2 = Md5::of({reinterpret_cast<const char*>(p2.data()), p2.size()});
  b.add_part(m1);
  b.add_part(m2);
  std::string concat(reinterpret_cast<const char*>(m1.data()), 16);
  concat.append(reinterpret_cast<const char*>(m2.data()), 16);
  EXPECT_EQ(b.multipart_etag(), to_hex(Md5::of(concat)) + "-2");
}

namespace {
std::string_view view_of(const std::vector<std::uint8_t>& v, std::size_t begin, std::size_t size) {
  return {reinterpret_cast<const char*>(v.data()) + begin, size};
}

// Feeds v to an Md5Pair in random chunks, ending a part after each length in part_sizes
// (the rest is the last part), and checks every digest against OpenSSL's.
void expect_pair_matches_openssl(const std::vector<std::uint8_t>& v, const std::vector<std::size_t>& part_sizes,
                                 std::uint32_t seed) {
  std::mt19937 rng(seed);
  Md5Pair pair;
  std::size_t begin = 0;
  auto feed = [&](std::size_t end) {
    std::size_t at = begin;
    while (at < end) {
      const std::size_t n = std::min<std::size_t>(end - at, 1 + rng() % 300);
      pair.update(v.data() + at, n);
      at += n;
    }
  };
  for (std::size_t size : part_sizes) {
    feed(begin + size);
    EXPECT_EQ(to_hex(pair.finish_part()), to_hex(Md5::of(view_of(v, begin, size)))) << "part at " << begin << " of " << size;
    begin += size;
  }
  feed(v.size());
  EXPECT_EQ(to_hex(pair.finish_part()), to_hex(Md5::of(view_of(v, begin, v.size() - begin))));
  EXPECT_EQ(to_hex(pair.finish_whole()), to_hex(Md5::of(view_of(v, 0, v.size()))));
}
}  // namespace

TEST(Md5Pair, Rfc1321Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"}};
  for (const auto& [text, md5] : vectors) {
    Md5Pair pair;
    pair.update(text.data(), text.size());
    EXPECT_EQ(to_hex(pair.finish_part()), md5) << text;
    EXPECT_EQ(to_hex(pair.finish_whole()), md5) << text;
  }
}

TEST(Md5Pair, PartsOnBlockBoundariesMatchOpenSsl) {
  // Whole-MiB parts start on 64-byte boundaries: both lanes run interleaved.
  const auto v = random_bytes(3 * 65536 + 777, 21);
  expect_pair_matches_openssl(v, {65536, 65536, 64, 0, 128}, 1);
}

TEST(Md5Pair, PartsAnywhereMatchOpenSsl) {
  // Any other boundary puts the lanes out of step; each then runs alone, still exact.
  const auto v = random_bytes(200'003, 22);
  expect_pair_matches_openssl(v, {55, 56, 63, 65, 1, 100'000, 9}, 2);
  expect_pair_matches_openssl(v, {}, 3);
}

TEST(Md5Pair, PaddingEdgeLengths) {
  for (std::size_t n : {55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 128u}) {
    const auto v = random_bytes(n, static_cast<std::uint32_t>(n));
    expect_pair_matches_openssl(v, {}, 4);
  }
}
