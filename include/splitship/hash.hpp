// Content checksums computed once, in-stream, over the bytes about to be stored.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace splitship {

using Md5Digest = std::array<std::uint8_t, 16>;
using Sha256Digest = std::array<std::uint8_t, 32>;

std::string to_hex(const std::uint8_t* data, std::size_t size);
template <std::size_t N>
std::string to_hex(const std::array<std::uint8_t, N>& d) { return to_hex(d.data(), N); }
std::string to_base64(const std::uint8_t* data, std::size_t size);
template <std::size_t N>
std::string to_base64(const std::array<std::uint8_t, N>& d) { return to_base64(d.data(), N); }
// Big-endian bytes of a CRC, base64: how S3 spells x-amz-checksum-crc64nvme / -crc32c.
std::string crc64_to_base64(std::uint64_t crc);
std::string crc32_to_base64(std::uint32_t crc);

class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(Md5&&) noexcept;
  Md5& operator=(Md5&&) noexcept;
  void update(const void* data, std::size_t size);
  Md5Digest finish();  // resets the state afterwards
  static Md5Digest of(std::string_view data);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(const void* data, std::size_t size);
  Sha256Digest finish();
  static Sha256Digest of(std::string_view data);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// CRC-64/NVME: poly 0xad93d23594c93659, reflected, init and xorout all ones.
// Carry-less-multiply folding where the CPU has PCLMULQDQ, a slicing-by-8 table otherwise.
class Crc64Nvme {
 public:
  void update(const void* data, std::size_t size);
  std::uint64_t value() const { return ~register_; }
  static std::uint64_t of(std::string_view data);
  // Implementations, exposed so tests can compare them on the same input.
  static std::uint64_t update_table(std::uint64_t reg, const std::uint8_t* p, std::size_t n);
  static std::uint64_t update_clmul(std::uint64_t reg, const std::uint8_t* p, std::size_t n);
  static std::uint64_t update_bitwise(std::uint64_t reg, const std::uint8_t* p, std::size_t n);
  static bool clmul_available();

 private:
  std::uint64_t register_ = ~0ULL;
};

// CRC-32C (Castagnoli), via ISA-L.
class Crc32c {
 public:
  void update(const void* data, std::size_t size);
  std::uint32_t value() const { return crc_; }
  static std::uint32_t of(std::string_view data);

 private:
  std::uint32_t crc_ = 0;
};

// Every checksum of one object, from a single pass over its bytes.
struct ObjectDigests {
  std::uint64_t size = 0;
  Md5Digest md5{};
  Sha256Digest sha256{};
  std::uint64_t crc64nvme = 0;
  std::uint32_t crc32c = 0;
};

// One MD5 computation by hand (RFC 1321), for Md5Pair's lanes.
struct Md5Lane {
  std::uint32_t h[4];
  std::uint64_t length;  // bytes so far
  std::uint8_t buffer[64];
  std::size_t buffered;  // bytes of buffer pending a full block
  void reset();
  void update(const std::uint8_t* data, std::size_t size);
  Md5Digest finish();  // resets the lane afterwards
};

// The MD5 of a whole object and of its current part, over the same bytes, computed in two
// interleaved lanes: about the cost of one MD5 (md5_pair.cpp says why).
class Md5Pair {
 public:
  Md5Pair();
  void update(const void* data, std::size_t size);
  Md5Digest finish_part();   // the bytes since the last finish_part(); starts the next part
  Md5Digest finish_whole();  // every byte since construction; resets both lanes

 private:
  Md5Lane whole_;
  Md5Lane part_;
};

class MultiHasher {
 public:
  void update(const void* data, std::size_t size);
  // The MD5 of the bytes since the last finish_part(), for multipart uploads; the whole
  // object's MD5 comes at nearly no extra cost beside it (Md5Pair).
  Md5Digest finish_part() { return md5_.finish_part(); }
  ObjectDigests finish();

 private:
  std::uint64_t size_ = 0;
  Md5Pair md5_;
  Sha256 sha256_;
  Crc64Nvme crc64_;
  Crc32c crc32c_;
};

// The S3 ETag of an object: md5 hex for a single PUT; for multipart, md5 of the concatenated
// binary md5s of the parts, hex, then "-N".
class EtagBuilder {
 public:
  void add_part(const Md5Digest& part_md5) { part_md5s_.push_back(part_md5); }
  std::string multipart_etag() const;
  static std::string single_etag(const Md5Digest& md5) { return to_hex(md5); }

 private:
  std::vector<Md5Digest> part_md5s_;
};

}  // namespace splitship
