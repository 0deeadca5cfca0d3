// Two MD5s of one byte stream at once: the whole object's and its current part's.
//
// Why by hand: a multipart upload needs each part's MD5 (Content-MD5, the ETag we predict)
// and the manifest records the whole file's MD5, so every byte went through MD5 twice. MD5
// is one long dependency chain per block (about 0.65 GB/s per core here, OpenSSL included);
// two independent chains over the same message words fill the core's idle ALUs, so both
// digests cost little more than one. OpenSSL has no such interface. RFC 1321 is the
// reference; tests/unit/hash_test.cpp checks every result against OpenSSL.
#include <cstring>

#include "splitship/hash.hpp"

namespace splitship {
namespace {

constexpr std::uint32_t kInit[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};

// K[i] = floor(|sin(i + 1)| * 2^32), RFC 1321 section 3.4.
constexpr std::uint32_t kK[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

constexpr int kShift[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                            5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                            4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                            6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

inline std::uint32_t rotl(std::uint32_t v, int s) { return (v << s) | (v >> (32 - s)); }

// Step i's mixing function and message word.
template <int I>
inline std::uint32_t mix(std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  if constexpr (I < 16) return d ^ (b & (c ^ d));
  else if constexpr (I < 32) return c ^ (d & (b ^ c));
  else if constexpr (I < 48) return b ^ c ^ d;
  else return c ^ (b | ~d);
}
template <int I>
constexpr int word() {
  if constexpr (I < 16) return I;
  else if constexpr (I < 32) return (5 * I + 1) % 16;
  else if constexpr (I < 48) return (3 * I + 5) % 16;
  else return (7 * I) % 16;
}

// The 64 steps, unrolled at compile time. Each step updates a, then the next step sees the
// registers renamed (d, a, b, c), as RFC 1321 writes its rounds; the lanes share m.
#define SPLITSHIP_MD5_STEP(a, b, c, d) a = b + rotl(a + mix<I>(b, c, d) + kK[I] + m[word<I>()], kShift[I])

template <int I>
[[gnu::always_inline]] inline void steps1(std::uint32_t& a, std::uint32_t& b, std::uint32_t& c, std::uint32_t& d,
                                          const std::uint32_t* m) {
  if constexpr (I < 64) {
    SPLITSHIP_MD5_STEP(a, b, c, d);
    steps1<I + 1>(d, a, b, c, m);
  }
}

template <int I>
[[gnu::always_inline]] inline void steps2(std::uint32_t& a, std::uint32_t& b, std::uint32_t& c, std::uint32_t& d,
                                          std::uint32_t& a2, std::uint32_t& b2, std::uint32_t& c2, std::uint32_t& d2,
                                          const std::uint32_t* m) {
  if constexpr (I < 64) {
    SPLITSHIP_MD5_STEP(a, b, c, d);
    SPLITSHIP_MD5_STEP(a2, b2, c2, d2);
    steps2<I + 1>(d, a, b, c, d2, a2, b2, c2, m);
  }
}
#undef SPLITSHIP_MD5_STEP

void compress1(std::uint32_t* h, const std::uint8_t* data, std::size_t blocks) {
  for (; blocks > 0; --blocks, data += 64) {
    std::uint32_t m[16];
    std::memcpy(m, data, 64);  // little-endian words, as on x86-64 and aarch64
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    steps1<0>(a, b, c, d, m);
    h[0] += a, h[1] += b, h[2] += c, h[3] += d;
  }
}

void compress2(std::uint32_t* h, std::uint32_t* h2, const std::uint8_t* data, std::size_t blocks) {
  for (; blocks > 0; --blocks, data += 64) {
    std::uint32_t m[16];
    std::memcpy(m, data, 64);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    std::uint32_t a2 = h2[0], b2 = h2[1], c2 = h2[2], d2 = h2[3];
    steps2<0>(a, b, c, d, a2, b2, c2, d2, m);
    h[0] += a, h[1] += b, h[2] += c, h[3] += d;
    h2[0] += a2, h2[1] += b2, h2[2] += c2, h2[3] += d2;
  }
}

}  // namespace

void Md5Lane::reset() {
  std::memcpy(h, kInit, sizeof h);
  length = 0;
  buffered = 0;
}

void Md5Lane::update(const std::uint8_t* p, std::size_t size) {
  length += size;
  if (buffered > 0) {
    const std::size_t n = std::min<std::size_t>(size, 64 - buffered);
    std::memcpy(buffer + buffered, p, n);
    buffered += n;
    p += n;
    size -= n;
    if (buffered < 64) return;
    compress1(h, buffer, 1);
    buffered = 0;
  }
  compress1(h, p, size / 64);
  p += size / 64 * 64;
  buffered = size % 64;
  std::memcpy(buffer, p, buffered);
}

Md5Digest Md5Lane::finish() {
  const std::uint64_t bits = length * 8;
  std::uint8_t pad[72] = {0x80};
  const std::size_t pad_len = (buffered < 56 ? 56 : 120) - buffered;
  for (int i = 0; i < 8; ++i) pad[pad_len + i] = static_cast<std::uint8_t>(bits >> (8 * i));
  update(pad, pad_len + 8);
  Md5Digest out;
  std::memcpy(out.data(), h, 16);
  reset();
  return out;
}

Md5Pair::Md5Pair() {
  whole_.reset();
  part_.reset();
}

void Md5Pair::update(const void* data, std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  // Both lanes interleave only while their pending bytes are the same ones: true whenever
  // parts start on a 64-byte boundary of the object, as part sizes of whole MiB do.
  if (whole_.buffered != part_.buffered) {
    whole_.update(p, size);
    part_.update(p, size);
    return;
  }
  if (whole_.buffered > 0) {
    const std::size_t n = std::min<std::size_t>(size, 64 - whole_.buffered);
    whole_.update(p, n);
    part_.update(p, n);
    p += n;
    size -= n;
    if (size == 0) return;
  }
  const std::size_t blocks = size / 64;
  compress2(whole_.h, part_.h, p, blocks);
  whole_.length += blocks * 64;
  part_.length += blocks * 64;
  p += blocks * 64;
  size -= blocks * 64;
  whole_.update(p, size);
  part_.update(p, size);
}

Md5Digest Md5Pair::finish_part() { return part_.finish(); }

Md5Digest Md5Pair::finish_whole() {
  part_.reset();
  return whole_.finish();
}

}  // namespace splitship
