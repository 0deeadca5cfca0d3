// The S3 store: settings resolved the way the AWS CLI resolves them, Signature Version 4, and a
// Store implementation that streams objects with multipart upload, checks every ETag the server
// returns against the one predicted from our own MD5s, and never reads object data back.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "splitship/log.hpp"
#include "splitship/store.hpp"

namespace splitship {

enum class AddressingStyle { Auto, Path, Virtual };
enum class ChecksumAlgorithm { None, Crc64Nvme, Crc32c, Sha256 };
// Auto: a body whose Content-MD5 is sent (every body splitship sends) goes UNSIGNED-PAYLOAD.
// The signature covers the Content-MD5 header and the server refuses a body that does not
// match it, so the body is as protected as with a signed SHA-256, one hash pass cheaper.
enum class PayloadSigning { Auto, Signed, Unsigned };

constexpr std::uint64_t kMinPartSize = 5ULL << 20;    // S3: every part but the last
constexpr std::uint64_t kMaxPartSize = 5ULL << 30;
constexpr std::uint64_t kMaxParts = 10000;
constexpr std::uint64_t kDefaultPartSize = 64ULL << 20;  // cp: files are read at disk speed
// export and resume: parts arrive at the Parquet writer's pace (about 12-20 MB/s per split on
// the bench machine), so the link waits for the first part to fill: at 10 MB/s, 8 MiB parts
// made the export 0.8 s shorter than 16 MiB parts (bench/), and no slower on loopback. (AWS
// CLI's default is 8 MiB too.) They also halve the upload buffers.
constexpr std::uint64_t kStreamPartSize = 8ULL << 20;

// What the user said on the command line; empty / unset means "not given, look further".
struct S3Options {
  std::string endpoint_url;
  std::string region;
  std::string profile;
  std::string addressing_style;  // auto | path | virtual
  std::optional<int> max_attempts;
  std::optional<double> request_timeout_s;
  std::optional<double> connect_timeout_s;
  std::string ca_bundle;
  bool no_verify_ssl = false;
  bool no_sign_request = false;
  bool unsigned_payload = false;
  bool signed_payload = false;
  std::string checksum_algorithm;  // CRC64NVME | CRC32C | SHA256 | none
  std::optional<std::uint64_t> part_size;
  std::optional<int> concurrency;
  // The part size when neither --part-size nor the profile's s3.multipart_chunksize sets one.
  std::uint64_t default_part_size = kDefaultPartSize;
};

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string source;  // where they came from, for --debug logs: "environment", "profile dev"
  bool anonymous() const { return access_key_id.empty(); }
};

struct S3Settings {
  Credentials credentials;
  std::string region = "us-east-1";
  std::string endpoint;  // "scheme://host[:port]" without a trailing slash; empty: AWS
  AddressingStyle addressing = AddressingStyle::Auto;
  int max_attempts = 5;
  double request_timeout_s = 60;  // a request that makes no progress this long fails (and is retried)
  double connect_timeout_s = 10;
  std::string ca_bundle;  // empty: the system's
  bool verify_tls = true;
  PayloadSigning payload_signing = PayloadSigning::Auto;
  ChecksumAlgorithm checksum = ChecksumAlgorithm::None;
  std::uint64_t part_size = kDefaultPartSize;
  int concurrency = 8;
  std::string user_agent = "splitship";
};

// Reads one environment variable; injectable so tests need no process-wide state.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

// Flags first, then AWS_* variables, then the profile in the shared config and credentials
// files, then defaults. Throws Error(Usage) on bad values or a named profile that is missing.
S3Settings resolve_s3_settings(const S3Options& options, const EnvLookup& env);

// ---- Signature Version 4 -------------------------------------------------------------------

// S3's URI encoding: every byte but A-Z a-z 0-9 - . _ ~ as %XX; '/' kept when keep_slash.
std::string uri_encode(std::string_view s, bool keep_slash);

struct SigV4Request {
  std::string method;
  std::string encoded_path;  // as sent on the wire, already uri_encode()d: "/bucket/a%20b"
  std::vector<std::pair<std::string, std::string>> query;    // decoded names and values
  std::vector<std::pair<std::string, std::string>> headers;  // every header to sign, host included
  std::string payload_hash;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

std::string sigv4_canonical_request(const SigV4Request& request);
// The Authorization header value. amz_date is "YYYYMMDDTHHMMSSZ" (also sent as x-amz-date).
std::string sigv4_authorization(const SigV4Request& request, const Credentials& credentials,
                                const std::string& region, const std::string& service,
                                const std::string& amz_date);
// The canonical query string of a request: sorted, encoded "a=1&b=2", also used for the URL.
std::string canonical_query_string(const std::vector<std::pair<std::string, std::string>>& query);

// ---- The store -----------------------------------------------------------------------------

struct S3Location {
  std::string bucket;
  std::string prefix;  // no leading or trailing '/'
};

// Opens the S3 store at bucket/prefix. The store owns its upload threads and buffers: memory
// stays about part_size × (concurrency + 1) whatever the data size. cancel (may be null) stops
// retries and transfers promptly.
std::unique_ptr<Store> make_s3_store(const S3Location& location, const S3Settings& settings, Logger* log,
                                     CancelToken* cancel);


}  // namespace splitship
