// AWS Signature Version 4 for S3: canonical request → string to sign → HMAC chain.
// S3 differs from other services in two ways that matter here: paths are not normalised and
// not double-encoded, and the payload hash is sent as x-amz-content-sha256.
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

#include "splitship/error.hpp"
#include "splitship/hash.hpp"
#include "splitship/s3.hpp"

namespace splitship {
namespace {

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header values are signed trimmed, with inner runs of spaces collapsed to one.
std::string canonical_header_value(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

using Digest32 = std::array<std::uint8_t, 32>;

Digest32 hmac_sha256(std::string_view key, std::string_view data) {
  Digest32 out{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len))
    fail(ErrorKind::Internal, "OpenSSL HMAC-SHA256 failed");
  return out;
}

std::string_view as_view(const Digest32& d) { return {reinterpret_cast<const char*>(d.data()), d.size()}; }

struct CanonicalHeaders {
  std::string block;   // "name:value\n" lines
  std::string signed_names;  // "host;x-amz-date"
};

CanonicalHeaders canonical_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::vector<std::pair<std::string, std::string>> sorted;
  sorted.reserve(headers.size());
  for (const auto& [name, value] : headers) sorted.emplace_back(lower(name), canonical_header_value(value));
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    // Repeated names join their values with commas, in the order given.
    if (i > 0 && sorted[i].first == sorted[i - 1].first) {
      out.block.pop_back();
      out.block += "," + sorted[i].second + "\n";
      continue;
    }
    out.block += sorted[i].first + ":" + sorted[i].second + "\n";
    if (!out.signed_names.empty()) out.signed_names += ';';
    out.signed_names += sorted[i].first;
  }
  return out;
}

}  // namespace

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (unsigned char c : s) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string canonical_query_string(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [k, v] : query) encoded.emplace_back(uri_encode(k, false), uri_encode(v, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string sigv4_canonical_request(const SigV4Request& r) {
  const auto headers = canonical_headers(r.headers);
  return r.method + "\n" + (r.encoded_path.empty() ? "/" : r.encoded_path) + "\n" +
         canonical_query_string(r.query) + "\n" + headers.block + "\n" + headers.signed_names + "\n" +
         r.payload_hash;
}

std::string sigv4_authorization(const SigV4Request& request, const Credentials& credentials,
                                const std::string& region, const std::string& service,
                                const std::string& amz_date) {
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = date + "/" + region + "/" + service + "/aws4_request";
  const std::string canonical = sigv4_canonical_request(request);
  const std::string to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + to_hex(Sha256::of(canonical));
  const auto k_date = hmac_sha256("AWS4" + credentials.secret_access_key, date);
  const auto k_region = hmac_sha256(as_view(k_date), region);
  const auto k_service = hmac_sha256(as_view(k_region), service);
  const auto k_signing = hmac_sha256(as_view(k_service), "aws4_request");
  const auto signature = hmac_sha256(as_view(k_signing), to_sign);
  return "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
         ", SignedHeaders=" + canonical_headers(request.headers).signed_names + ", Signature=" + to_hex(signature);
}

}  // namespace splitship
