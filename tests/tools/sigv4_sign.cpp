// Test helper: reads one JSON request per line on stdin, prints our Authorization header for
// each. tests/integration/test_sigv4_botocore.py compares it with botocore's signer.
#include <iostream>
#include <nlohmann/json.hpp>

#include "splitship/hash.hpp"
#include "splitship/s3.hpp"

int main() {
  using namespace splitship;
  std::string line;
  while (std::getline(std::cin, line)) {
    const auto j = nlohmann::json::parse(line);
    SigV4Request r;
    r.method = j["method"];
    r.encoded_path = uri_encode(j["path"].get<std::string>(), true);
    for (const auto& q : j["query"]) r.query.emplace_back(q[0], q[1]);
    for (const auto& h : j["headers"]) r.headers.emplace_back(h[0], h[1]);
    if (j["unsigned"].get<bool>()) {
      r.payload_hash = "UNSIGNED-PAYLOAD";
    } else {
      const std::string hex = j["body_hex"];
      std::string body;
      for (std::size_t i = 0; i + 1 < hex.size(); i += 2) body += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
      r.payload_hash = to_hex(Sha256::of(body));
    }
    Credentials c{j["access_key"], j["secret_key"], j.value("token", ""), "test"};
    if (j.value("canonical", false)) {
      std::cout << nlohmann::json(sigv4_canonical_request(r)).dump() << "\n";
      continue;
    }
    std::cout << sigv4_authorization(r, c, j["region"], "s3", j["amz_date"]) << "\n";
  }
}
