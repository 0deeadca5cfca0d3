#include <openssl/evp.h>

#include "splitship/error.hpp"
#include "splitship/hash.hpp"

namespace splitship {

struct Md5::State {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~State() { EVP_MD_CTX_free(ctx); }
  void reset() {
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_md5(), nullptr) != 1)
      fail(ErrorKind::Internal, "OpenSSL MD5 initialisation failed");
  }
};

Md5::Md5() : state_(std::make_unique<State>()) { state_->reset(); }
Md5::~Md5() = default;
Md5::Md5(Md5&&) noexcept = default;
Md5& Md5::operator=(Md5&&) noexcept = default;

void Md5::update(const void* data, std::size_t size) { EVP_DigestUpdate(state_->ctx, data, size); }

Md5Digest Md5::finish() {
  Md5Digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx, out.data(), &len);
  state_->reset();
  return out;
}

Md5Digest Md5::of(std::string_view data) {
  Md5 h;
  h.update(data.data(), data.size());
  return h.finish();
}

}  // namespace splitship
