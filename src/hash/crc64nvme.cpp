// CRC-64/NVME three ways: bitwise (the definition, for tests), slicing-by-8 tables (portable),
// and carry-less-multiply folding (PCLMULQDQ, four 128-bit lanes).
//
// Folding, in the reflected domain: a 16-byte block loaded little-endian holds a polynomial
// whose bit i is the coefficient of x^(127-i). clmul(rev64(a), rev64(b)) = rev128(a*b*x),
// so a folding constant for "multiply by x^n" is rev64(x^(n-1) mod P). The remainder of a
// 128-bit folded value f is f*x^64 mod P, which is exactly the table CRC of f's 16 bytes
// started from a zero register: that is how the final reduction is done, with no Barrett step.
#include <immintrin.h>

#include <array>
#include <cstring>

#include "splitship/hash.hpp"

namespace splitship {
namespace {

constexpr std::uint64_t kPolyNormal = 0xad93d23594c93659ULL;
constexpr std::uint64_t kPolyReflected = 0x9a6c9329ac4bc9b5ULL;

constexpr std::uint64_t reverse64(std::uint64_t v) {
  std::uint64_t r = 0;
  for (int i = 0; i < 64; ++i) r |= ((v >> i) & 1ULL) << (63 - i);
  return r;
}
static_assert(reverse64(kPolyNormal) == kPolyReflected);

// x^n mod P in normal form, then reflected: the folding constant for multiply-by-x^(n+1).
constexpr std::uint64_t reflected_xpow_mod(unsigned n) {
  std::uint64_t r = 1;  // x^0
  for (unsigned i = 0; i < n; ++i) {
    const bool carry = (r >> 63) != 0;
    r <<= 1;
    if (carry) r ^= kPolyNormal;
  }
  return reverse64(r);
}

using Table = std::array<std::array<std::uint64_t, 256>, 8>;

constexpr Table make_tables() {
  Table t{};
  for (unsigned b = 0; b < 256; ++b) {
    std::uint64_t crc = b;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ kPolyReflected : crc >> 1;
    t[0][b] = crc;
  }
  for (unsigned b = 0; b < 256; ++b)
    for (unsigned s = 1; s < 8; ++s) t[s][b] = (t[s - 1][b] >> 8) ^ t[0][t[s - 1][b] & 0xff];
  return t;
}

constexpr Table kTables = make_tables();

// Multiply-by-x^n constants for 128-bit lanes: the low qword holds the higher-degree half.
struct FoldConstants {
  std::uint64_t lo, hi;
};
constexpr FoldConstants fold_by_bits(unsigned bits) {
  return {reflected_xpow_mod(bits + 64 - 1), reflected_xpow_mod(bits - 1)};
}
constexpr FoldConstants kFold128 = fold_by_bits(128);
constexpr FoldConstants kFold512 = fold_by_bits(512);

__attribute__((target("pclmul,sse4.1"))) inline __m128i fold(__m128i acc, __m128i k, __m128i next) {
  const __m128i a = _mm_clmulepi64_si128(acc, k, 0x00);  // low qword  * k.lo
  const __m128i b = _mm_clmulepi64_si128(acc, k, 0x11);  // high qword * k.hi
  return _mm_xor_si128(_mm_xor_si128(a, b), next);
}

}  // namespace

std::uint64_t Crc64Nvme::update_bitwise(std::uint64_t reg, const std::uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    reg ^= p[i];
    for (int k = 0; k < 8; ++k) reg = (reg & 1) ? (reg >> 1) ^ kPolyReflected : reg >> 1;
  }
  return reg;
}

std::uint64_t Crc64Nvme::update_table(std::uint64_t reg, const std::uint8_t* p, std::size_t n) {
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);  // little-endian host (x86-64)
    word ^= reg;
    reg = kTables[7][word & 0xff] ^ kTables[6][(word >> 8) & 0xff] ^
          kTables[5][(word >> 16) & 0xff] ^ kTables[4][(word >> 24) & 0xff] ^
          kTables[3][(word >> 32) & 0xff] ^ kTables[2][(word >> 40) & 0xff] ^
          kTables[1][(word >> 48) & 0xff] ^ kTables[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) reg = kTables[0][(reg ^ *p++) & 0xff] ^ (reg >> 8);
  return reg;
}

__attribute__((target("pclmul,sse4.1")))
std::uint64_t Crc64Nvme::update_clmul(std::uint64_t reg, const std::uint8_t* p, std::size_t n) {
  if (n < 64) return update_table(reg, p, n);
  auto load = [](const std::uint8_t* q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)); };
  // The running register enters as an XOR into the first 8 message bytes.
  __m128i x0 = _mm_xor_si128(load(p), _mm_cvtsi64_si128(static_cast<long long>(reg)));
  __m128i x1 = load(p + 16), x2 = load(p + 32), x3 = load(p + 48);
  p += 64;
  n -= 64;
  const __m128i k512 = _mm_set_epi64x(static_cast<long long>(kFold512.hi), static_cast<long long>(kFold512.lo));
  const __m128i k128 = _mm_set_epi64x(static_cast<long long>(kFold128.hi), static_cast<long long>(kFold128.lo));
  while (n >= 64) {
    x0 = fold(x0, k512, load(p));
    x1 = fold(x1, k512, load(p + 16));
    x2 = fold(x2, k512, load(p + 32));
    x3 = fold(x3, k512, load(p + 48));
    p += 64;
    n -= 64;
  }
  __m128i x = fold(x0, k128, x1);
  x = fold(x, k128, x2);
  x = fold(x, k128, x3);
  while (n >= 16) {
    x = fold(x, k128, load(p));
    p += 16;
    n -= 16;
  }
  alignas(16) std::uint8_t folded[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(folded), x);
  reg = update_table(0, folded, sizeof folded);
  return update_table(reg, p, n);
}

bool Crc64Nvme::clmul_available() {
  static const bool ok = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  return ok;
}

void Crc64Nvme::update(const void* data, std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  register_ = clmul_available() ? update_clmul(register_, p, size) : update_table(register_, p, size);
}

std::uint64_t Crc64Nvme::of(std::string_view data) {
  Crc64Nvme c;
  c.update(data.data(), data.size());
  return c.value();
}

}  // namespace splitship
