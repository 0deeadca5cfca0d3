#include <openssl/evp.h>

#include "splitship/error.hpp"
#include "splitship/hash.hpp"

namespace splitship {

struct Sha256::State {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~State() { EVP_MD_CTX_free(ctx); }
  void reset() {
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1)
      fail(ErrorKind::Internal, "OpenSSL SHA-256 initialisation failed");
  }
};

Sha256::Sha256() : state_(std::make_unique<State>()) { state_->reset(); }
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, std::size_t size) { EVP_DigestUpdate(state_->ctx, data, size); }

Sha256Digest Sha256::finish() {
  Sha256Digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx, out.data(), &len);
  state_->reset();
  return out;
}

Sha256Digest Sha256::of(std::string_view data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.finish();
}

}  // namespace splitship
