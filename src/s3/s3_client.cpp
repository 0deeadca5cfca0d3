#include "s3/s3_client.hpp"

#include <pugixml.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "splitship/error.hpp"

namespace splitship {
namespace {

constexpr double kBackoffBase_s = 1.0;  // AWS "standard" retry mode: full jitter over base·2^n
constexpr double kBackoffCap_s = 20.0;
constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

bool dns_compatible_bucket(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-'))
      return false;  // dots break TLS wildcard certificates, so they mean path style too
  return b.front() != '-' && b.back() != '-';
}

struct S3ErrorBody {
  std::string code;
  std::string message;
};

S3ErrorBody parse_error(const std::string& body) {
  S3ErrorBody e;
  pugi::xml_document doc;
  if (body.empty() || !doc.load_buffer(body.data(), body.size())) return e;
  const auto err = doc.child("Error");
  e.code = err.child_value("Code");
  e.message = err.child_value("Message");
  return e;
}

bool retryable_status(long status, const std::string& code) {
  if (status >= 500 || status == 429 || status == 408) return true;
  // BadDigest / XAmzContentSHA256Mismatch: the body was damaged on its way (the server stored
  // nothing); the bytes in memory are right, so they are sent again.
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
         code == "ServiceUnavailable" || code == "ConditionalRequestConflict" || code == "BadDigest" ||
         code == "XAmzContentSHA256Mismatch";
}

const char* checksum_header(ChecksumAlgorithm a) {
  switch (a) {
    case ChecksumAlgorithm::Crc64Nvme: return "x-amz-checksum-crc64nvme";
    case ChecksumAlgorithm::Crc32c: return "x-amz-checksum-crc32c";
    case ChecksumAlgorithm::Sha256: return "x-amz-checksum-sha256";
    case ChecksumAlgorithm::None: break;
  }
  return nullptr;
}

const char* checksum_name(ChecksumAlgorithm a) {
  switch (a) {
    case ChecksumAlgorithm::Crc64Nvme: return "CRC64NVME";
    case ChecksumAlgorithm::Crc32c: return "CRC32C";
    case ChecksumAlgorithm::Sha256: return "SHA256";
    case ChecksumAlgorithm::None: break;
  }
  return "";
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

S3Client::S3Client(std::string bucket, S3Settings settings, Logger* log, CancelToken* cancel)
    : bucket_(std::move(bucket)),
      settings_(std::move(settings)),
      log_(log),
      cancel_(cancel),
      http_(HttpSettings{settings_.connect_timeout_s, settings_.request_timeout_s, settings_.ca_bundle,
                         settings_.verify_tls, settings_.user_agent}),
      rng_(std::random_device{}()) {
  std::string endpoint = settings_.endpoint.empty() ? "https://s3." + settings_.region + ".amazonaws.com"
                                                    : settings_.endpoint;
  const auto sep = endpoint.find("://");
  scheme_ = endpoint.substr(0, sep);
  endpoint_host_ = endpoint.substr(sep + 3);
  // Host header convention: no port when it is the scheme's default.
  if (scheme_ == "https" && endpoint_host_.ends_with(":443")) endpoint_host_.resize(endpoint_host_.size() - 4);
  if (scheme_ == "http" && endpoint_host_.ends_with(":80")) endpoint_host_.resize(endpoint_host_.size() - 3);
}

bool S3Client::use_virtual_host() const {
  switch (settings_.addressing) {
    case AddressingStyle::Path: return false;
    case AddressingStyle::Virtual: return true;
    case AddressingStyle::Auto: break;
  }
  // As s5cmd: AWS gets virtual-hosted requests; a custom endpoint (often an IP or a single
  // host name without wildcard DNS) gets path style.
  return settings_.endpoint.empty() && dns_compatible_bucket(bucket_);
}

std::string S3Client::host_and_path(const std::string& key, std::string& host) const {
  if (use_virtual_host()) {
    host = bucket_ + "." + endpoint_host_;
    return "/" + uri_encode(key, true);
  }
  host = endpoint_host_;
  return "/" + bucket_ + (key.empty() ? "" : "/" + uri_encode(key, true));
}

BodyDigester::BodyDigester(const S3Settings& settings)
    : signed_(settings.payload_signing == PayloadSigning::Signed), algorithm_(settings.checksum) {}

// Every body goes with its Content-MD5, so only --signed-payload needs its SHA-256.
bool BodyDigester::wants_sha256() const { return signed_ || algorithm_ == ChecksumAlgorithm::Sha256; }

void BodyDigester::update(const char* data, std::size_t size) {
  if (wants_sha256()) sha256_.update(data, size);
  if (algorithm_ == ChecksumAlgorithm::Crc64Nvme) crc64_.update(data, size);
  if (algorithm_ == ChecksumAlgorithm::Crc32c) crc32c_.update(data, size);
}

BodyDigests BodyDigester::finish(const Md5Digest& md5) {
  BodyDigests d;
  d.md5 = md5;
  if (wants_sha256()) {
    const auto digest = sha256_.finish();
    if (signed_) d.sha256_hex = to_hex(digest);
    if (algorithm_ == ChecksumAlgorithm::Sha256) d.checksum_b64 = to_base64(digest);
  }
  if (algorithm_ == ChecksumAlgorithm::Crc64Nvme) d.checksum_b64 = crc64_to_base64(crc64_.value());
  if (algorithm_ == ChecksumAlgorithm::Crc32c) d.checksum_b64 = crc32_to_base64(crc32c_.value());
  return d;
}

BodyDigests S3Client::digest_body(const char* data, std::size_t size, const Md5Digest* known_md5) const {
  Md5Digest md5{};
  if (known_md5) {
    md5 = *known_md5;
  } else {
    Md5 hasher;
    hasher.update(data, size);
    md5 = hasher.finish();
  }
  BodyDigester digester(settings_);
  digester.update(data, size);
  return digester.finish(md5);
}

HttpResponse S3Client::send_once(const Call& call) {
  std::string host;
  const std::string path = host_and_path(call.key, host);
  const std::string query = canonical_query_string(call.query);

  SigV4Request sig;
  sig.method = call.method;
  sig.encoded_path = path;
  sig.query = call.query;
  sig.headers = call.headers;
  sig.headers.emplace_back("host", host);
  const std::string amz_date = utc_now_basic();
  sig.headers.emplace_back("x-amz-date", amz_date);
  if (call.digests && !call.digests->sha256_hex.empty()) sig.payload_hash = call.digests->sha256_hex;
  else if (call.digests || settings_.payload_signing == PayloadSigning::Unsigned) sig.payload_hash = "UNSIGNED-PAYLOAD";
  else sig.payload_hash = kEmptySha256;
  sig.headers.emplace_back("x-amz-content-sha256", sig.payload_hash);
  if (!settings_.credentials.session_token.empty())
    sig.headers.emplace_back("x-amz-security-token", settings_.credentials.session_token);

  HttpRequest req;
  req.method = call.method;
  req.url = scheme_ + "://" + host + path + (query.empty() ? "" : "?" + query);
  req.headers = sig.headers;
  if (!settings_.credentials.anonymous())
    req.headers.emplace_back("Authorization",
                             sigv4_authorization(sig, settings_.credentials, settings_.region, "s3", amz_date));
  req.body = call.body;
  req.head = call.method == "HEAD";
  if (cancel_ && !goes_through_interrupt(call)) req.cancel = &cancel_->requested;
  if (call.sink) {
    call.sink->restart();
    req.on_body = [sink = call.sink](const char* data, std::size_t size) { sink->consume(data, size); };
  }
  ++stats_.requests;
  auto response = http_.perform(req);
  stats_.bytes_sent += call.body.size;
  return response;
}

bool S3Client::goes_through_interrupt(const Call& call) {
  // Aborts and deletes undo our own work: they must go through even after Ctrl-C. So must
  // CreateMultipartUpload and CompleteMultipartUpload (both POST): cut short, the server may
  // have acted without us learning of it — an upload id we could not abort, an object we
  // would not know to remove. And so must a small record of work already done (a journal's
  // finished part), or the resume could not keep that work.
  return call.method == "DELETE" || call.method == "POST" || call.through_interrupt;
}

void S3Client::backoff(int attempt, bool cancellable) {
  double limit = std::min(kBackoffCap_s, kBackoffBase_s * std::pow(2.0, attempt - 1));
  double delay;
  {
    std::lock_guard lock(rng_mutex_);
    delay = std::uniform_real_distribution<double>(0, limit)(rng_);
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(delay);
  while (std::chrono::steady_clock::now() < until) {
    if (cancellable && cancel_ && cancel_->cancelled()) fail(ErrorKind::Cancelled, "interrupted");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

HttpResponse S3Client::send(const Call& call) {
  const std::string what = call.method + " " + url_of(call.key);
  const bool cancellable = !goes_through_interrupt(call);
  for (int attempt = 1;; ++attempt) {
    if (cancellable && cancel_ && cancel_->cancelled()) fail(ErrorKind::Cancelled, "interrupted");
    std::string reason;
    try {
      HttpResponse r = send_once(call);
      const bool ok = (r.status >= 200 && r.status < 300) ||
                      std::find(call.accepted_statuses.begin(), call.accepted_statuses.end(), r.status) !=
                          call.accepted_statuses.end();
      // CompleteMultipartUpload may answer 200 with an <Error> body.
      const bool error_in_ok = ok && call.method == "POST" && r.body.find("<Error>") != std::string::npos;
      if (ok && !error_in_ok) return r;
      const S3ErrorBody e = parse_error(r.body);
      if (!retryable_status(error_in_ok ? 500 : r.status, e.code) || attempt >= settings_.max_attempts)
        raise(call, r, attempt);
      reason = std::to_string(r.status) + (e.code.empty() ? "" : " " + e.code);
    } catch (const TransportError& t) {
      if (t.cancelled()) fail(ErrorKind::Cancelled, "interrupted");
      if (!t.retryable() || attempt >= settings_.max_attempts) {
        const std::string endpoint = scheme_ + "://" + endpoint_host_;
        const std::string text = t.what();
        if (text.find("certificate") != std::string::npos || text.find("SSL") != std::string::npos)
          fail(ErrorKind::Destination, "TLS failed with the S3 endpoint " + endpoint + ": " + text,
               "give the endpoint's certificate authority with --ca-bundle or AWS_CA_BUNDLE "
               "(--no-verify-ssl turns checking off, unsafely)");
        fail(ErrorKind::Destination,
             "cannot reach the S3 endpoint " + endpoint + " (" + what + "): " + t.what() +
                 (attempt > 1 ? " — gave up after " + std::to_string(attempt) + " attempts" : ""),
             "check --endpoint-url / AWS_ENDPOINT_URL and that the server is up");
      }
      reason = t.what();
    }
    ++stats_.retries;
    if (log_)  // debug: a retry that succeeds is routine; the count is in the run's summary
      log_->debug("retrying S3 request", {{"request", what}, {"reason", reason},
                                         {"attempt", std::to_string(attempt + 1) + "/" + std::to_string(settings_.max_attempts)}});
    backoff(attempt, cancellable);
  }
}

void S3Client::raise(const Call& call, const HttpResponse& r, int attempts) const {
  const S3ErrorBody e = parse_error(r.body);
  std::string code = e.code;
  if (code.empty()) {  // HEAD answers have no body: name the status
    if (r.status == 403) code = "AccessDenied";
    else if (r.status == 404) code = call.key.empty() ? "NoSuchBucket" : "NotFound";
    else if (r.status == 400) code = "BadRequest";
  }
  const std::string target = url_of(call.key);
  const std::string status = std::to_string(r.status) + " " + code;
  const std::string detail = e.message.empty() ? "" : ": " + e.message;
  if (code == "NoSuchBucket")
    fail(ErrorKind::Destination, "bucket '" + bucket_ + "' does not exist (" + status + ")",
         "create the bucket or fix the destination, endpoint and region");
  if (code == "InvalidAccessKeyId")
    fail(ErrorKind::Destination, "the server does not know this access key (" + status + ")",
         "check AWS_ACCESS_KEY_ID or the profile's aws_access_key_id, and the endpoint");
  if (code == "SignatureDoesNotMatch")
    fail(ErrorKind::Destination, "the server rejected the request signature (" + status + ")",
         "check the secret key, the region (--region) and this machine's clock");
  if (code == "RequestTimeTooSkewed")
    fail(ErrorKind::Destination, "this machine's clock is too far from the server's (" + status + ")",
         "synchronise the clock (NTP)");
  if (code == "AccessDenied" && call.method == "HEAD")  // HEAD answers carry no reason
    fail(ErrorKind::Destination, "the server refused HEAD " + target + " (403)",
         "check the keys, the region, this machine's clock, and the permissions on this bucket");
  if (code == "AccessDenied")
    fail(ErrorKind::Destination, "access denied: " + call.method + " " + target + " (" + status + ")",
         "check the credentials' permissions on this bucket and prefix");
  if (code == "BadDigest" || code == "XAmzContentSHA256Mismatch" || code.starts_with("InvalidDigest"))
    fail(ErrorKind::Integrity, "the server received other bytes than we sent: " + call.method + " " + target +
                                   " (" + status + detail + ")",
         "the data was corrupted in transit; nothing was stored, run again");
  fail(ErrorKind::Store, "S3 " + call.method + " " + target + " failed: " + status + detail +
                             (attempts > 1 ? " (gave up after " + std::to_string(attempts) + " attempts)" : ""),
       attempts > 1 ? "the store keeps failing; try again later or raise --max-attempts" : "");
}

std::string S3Client::put_object(const std::string& key, const RequestBody& body, const BodyDigests& digests,
                                 const S3PutOptions& options, bool* precondition_failed) {
  Call c{"PUT", key, {}, {{"content-md5", to_base64(digests.md5)}}, body, &digests, {}};
  c.through_interrupt = options.through_interrupt;
  if (const char* h = checksum_header(settings_.checksum)) c.headers.emplace_back(h, digests.checksum_b64);
  if (options.if_none_match) {
    c.headers.emplace_back("if-none-match", "*");
    c.accepted_statuses.push_back(412);
  }
  auto r = send(c);
  if (r.status == 412) {
    if (precondition_failed) *precondition_failed = true;
    return {};
  }
  if (precondition_failed) *precondition_failed = false;
  return unquote(r.header("etag"));
}

std::string S3Client::create_multipart_upload(const std::string& key) {
  Call c{"POST", key, {{"uploads", ""}}, {}, {}, nullptr, {}};
  if (settings_.checksum != ChecksumAlgorithm::None) {
    c.headers.emplace_back("x-amz-checksum-algorithm", checksum_name(settings_.checksum));
    // CRC64NVME can only describe the whole object; the others combine per part.
    c.headers.emplace_back("x-amz-checksum-type",
                           settings_.checksum == ChecksumAlgorithm::Crc64Nvme ? "FULL_OBJECT" : "COMPOSITE");
  }
  auto r = send(c);
  pugi::xml_document doc;
  doc.load_buffer(r.body.data(), r.body.size());
  std::string id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (id.empty()) fail(ErrorKind::Store, "S3 CreateMultipartUpload for " + url_of(key) + " returned no upload id");
  return id;
}

std::string S3Client::upload_part(const std::string& key, const std::string& upload_id, int number,
                                  const RequestBody& body, const BodyDigests& digests) {
  Call c{"PUT", key, {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}},
         {{"content-md5", to_base64(digests.md5)}}, body, &digests, {}};
  if (const char* h = checksum_header(settings_.checksum)) c.headers.emplace_back(h, digests.checksum_b64);
  return unquote(send(c).header("etag"));
}

std::string S3Client::complete_multipart_upload(const std::string& key, const std::string& upload_id,
                                                const std::vector<CompletedPart>& parts) {
  std::string xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  const std::string tag = std::string("Checksum") + checksum_name(settings_.checksum);
  for (const auto& p : parts) {
    xml += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>\"" + xml_escape(p.etag) + "\"</ETag>";
    if (settings_.checksum != ChecksumAlgorithm::None && settings_.checksum != ChecksumAlgorithm::Crc64Nvme)
      xml += "<" + tag + ">" + p.checksum + "</" + tag + ">";
    xml += "</Part>";
  }
  xml += "</CompleteMultipartUpload>";
  const BodyDigests d = digest_body(xml.data(), xml.size());
  Call c{"POST", key, {{"uploadId", upload_id}}, {{"content-md5", to_base64(d.md5)}, {"content-type", "application/xml"}},
         RequestBody::memory(xml.data(), xml.size()), &d, {}};
  auto r = send(c);
  pugi::xml_document doc;
  doc.load_buffer(r.body.data(), r.body.size());
  return unquote(doc.child("CompleteMultipartUploadResult").child_value("ETag"));
}

void S3Client::abort_multipart_upload(const std::string& key, const std::string& upload_id) noexcept {
  try {
    Call c{"DELETE", key, {{"uploadId", upload_id}}, {}, {}, nullptr, {404}};
    send(c);
  } catch (const std::exception& e) {
    if (log_) log_->warn("could not abort a multipart upload; `splitship gc` can remove it later",
                         {{"object", url_of(key)}, {"error", e.what()}});
  }
}

std::optional<ListedObject> S3Client::head_object(const std::string& key) {
  Call c{"HEAD", key, {}, {}, {}, nullptr, {404}};
  auto r = send(c);
  if (r.status == 404) return std::nullopt;
  ListedObject o{key, 0, unquote(r.header("etag"))};
  const std::string len = r.header("content-length");
  if (!len.empty()) o.size = std::stoull(len);
  return o;
}

std::vector<ListedObject> S3Client::list_objects(const std::string& prefix, std::size_t max_keys) {
  std::vector<ListedObject> out;
  std::string token;
  for (;;) {
    Call c{"GET", "", {{"list-type", "2"}, {"prefix", prefix}, {"encoding-type", "url"}}, {}, {}, nullptr, {}};
    if (max_keys) c.query.emplace_back("max-keys", std::to_string(max_keys));
    if (!token.empty()) c.query.emplace_back("continuation-token", token);
    auto r = send(c);
    pugi::xml_document doc;
    if (!doc.load_buffer(r.body.data(), r.body.size()))
      fail(ErrorKind::Store, "S3 ListObjectsV2 on " + url_of(prefix) + " returned unreadable XML");
    const auto root = doc.child("ListBucketResult");
    const bool encoded = std::string(root.child_value("EncodingType")) == "url";
    for (auto item : root.children("Contents")) {
      ListedObject o;
      o.key = encoded ? url_decode(item.child_value("Key")) : item.child_value("Key");
      o.size = std::stoull(std::string("0") + item.child_value("Size"));
      o.etag = unquote(item.child_value("ETag"));
      out.push_back(std::move(o));
    }
    token = root.child_value("NextContinuationToken");
    if (max_keys || std::string(root.child_value("IsTruncated")) != "true" || token.empty()) return out;
  }
}

std::vector<PendingUpload> S3Client::list_multipart_uploads(const std::string& prefix) {
  std::vector<PendingUpload> out;
  std::string key_marker, id_marker;
  for (;;) {
    Call c{"GET", "", {{"uploads", ""}, {"prefix", prefix}}, {}, {}, nullptr, {}};
    if (!key_marker.empty()) c.query.emplace_back("key-marker", key_marker);
    if (!id_marker.empty()) c.query.emplace_back("upload-id-marker", id_marker);
    auto r = send(c);
    pugi::xml_document doc;
    doc.load_buffer(r.body.data(), r.body.size());
    const auto root = doc.child("ListMultipartUploadsResult");
    for (auto u : root.children("Upload"))
      out.push_back({u.child_value("Key"), u.child_value("UploadId"), u.child_value("Initiated")});
    key_marker = root.child_value("NextKeyMarker");
    id_marker = root.child_value("NextUploadIdMarker");
    if (std::string(root.child_value("IsTruncated")) != "true" || key_marker.empty()) return out;
  }
}

std::optional<std::vector<ListedPart>> S3Client::list_parts(const std::string& key, const std::string& upload_id) {
  std::vector<ListedPart> out;
  std::string marker;
  for (;;) {
    Call c{"GET", key, {{"uploadId", upload_id}}, {}, {}, nullptr, {404}};
    if (!marker.empty()) c.query.emplace_back("part-number-marker", marker);
    auto r = send(c);
    // NoSuchUpload on AWS; Ceph answers NoSuchKey once an upload is aborted.
    if (r.status == 404) return std::nullopt;
    pugi::xml_document doc;
    if (!doc.load_buffer(r.body.data(), r.body.size()))
      fail(ErrorKind::Store, "S3 ListParts on " + url_of(key) + " returned unreadable XML");
    const auto root = doc.child("ListPartsResult");
    for (auto p : root.children("Part"))
      out.push_back({std::atoi(p.child_value("PartNumber")), std::stoull(std::string("0") + p.child_value("Size")),
                     unquote(p.child_value("ETag"))});
    marker = root.child_value("NextPartNumberMarker");
    if (std::string(root.child_value("IsTruncated")) != "true" || marker.empty()) return out;
  }
}

void S3Client::delete_object(const std::string& key) {
  Call c{"DELETE", key, {}, {}, {}, nullptr, {404}};
  send(c);
}

std::optional<std::string> S3Client::get_object(const std::string& key) {
  Call c{"GET", key, {}, {}, {}, nullptr, {404}};
  auto r = send(c);
  if (r.status == 404) return std::nullopt;
  return std::move(r.body);
}

bool S3Client::get_object_to(const std::string& key, ByteSink& sink) {
  Call c{"GET", key, {}, {}, {}, nullptr, {404}};
  c.sink = &sink;
  return send(c).status != 404;
}

}  // namespace splitship
