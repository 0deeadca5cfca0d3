#include <openssl/evp.h>

#include "splitship/hash.hpp"

namespace splitship {

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0xf];
  }
  return out;
}

std::string to_base64(const std::uint8_t* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string crc64_to_base64(std::uint64_t crc) {
  std::uint8_t be[8];
  for (int i = 0; i < 8; ++i) be[i] = static_cast<std::uint8_t>(crc >> (56 - 8 * i));
  return to_base64(be, 8);
}

std::string crc32_to_base64(std::uint32_t crc) {
  std::uint8_t be[4];
  for (int i = 0; i < 4; ++i) be[i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
  return to_base64(be, 4);
}

void MultiHasher::update(const void* data, std::size_t size) {
  size_ += size;
  md5_.update(data, size);
  sha256_.update(data, size);
  crc64_.update(data, size);
  crc32c_.update(data, size);
}

ObjectDigests MultiHasher::finish() {
  ObjectDigests d;
  d.size = size_;
  d.md5 = md5_.finish_whole();
  d.sha256 = sha256_.finish();
  d.crc64nvme = crc64_.value();
  d.crc32c = crc32c_.value();
  *this = MultiHasher();
  return d;
}

}  // namespace splitship
