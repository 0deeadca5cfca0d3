#include "splitship/hash.hpp"

namespace splitship {

std::string EtagBuilder::multipart_etag() const {
  Md5 md5;
  for (const auto& part : part_md5s_) md5.update(part.data(), part.size());
  return to_hex(md5.finish()) + "-" + std::to_string(part_md5s_.size());
}

}  // namespace splitship
