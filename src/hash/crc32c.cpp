#include <isa-l/crc.h>

#include "splitship/hash.hpp"

namespace splitship {

// ISA-L's crc32_iscsi neither pre- nor post-inverts: we keep the public value and invert
// around each call so update() can be called on any chunking.
void Crc32c::update(const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint32_t reg = ~crc_;
  while (size > 0) {  // ISA-L takes an int length
    const int n = size > (1u << 30) ? (1 << 30) : static_cast<int>(size);
    reg = crc32_iscsi(const_cast<unsigned char*>(p), n, reg);
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  crc_ = ~reg;
}

std::uint32_t Crc32c::of(std::string_view data) {
  Crc32c c;
  c.update(data.data(), data.size());
  return c.value();
}

}  // namespace splitship
