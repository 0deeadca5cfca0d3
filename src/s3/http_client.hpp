// A small HTTP/1.1 client on libcurl: one request at a time per call, easy handles pooled so
// connections are reused across requests and threads. It knows nothing about S3.
#pragma once
#include <atomic>
#include <functional>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace splitship {

struct HttpSettings {
  double connect_timeout_s = 10;
  double stall_timeout_s = 60;  // abort when no byte moved for this long
  std::string ca_bundle;
  bool verify_tls = true;
  std::string user_agent;
};

// A request body: bytes in memory, or a range of an open file that is read (pread) as the
// bytes go out, so a file is sent without first being copied into a buffer of its own.
struct RequestBody {
  const char* data = nullptr;
  int fd = -1;  // when ≥ 0, the body is `size` bytes of this file from `file_offset`
  std::uint64_t file_offset = 0;
  std::size_t size = 0;
  static RequestBody memory(const char* data, std::size_t size) { return {data, -1, 0, size}; }
  static RequestBody file(int fd, std::uint64_t offset, std::size_t size) { return {nullptr, fd, offset, size}; }
};

struct HttpRequest {
  std::string method;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  RequestBody body;
  bool head = false;  // a HEAD: no response body expected
  const std::atomic<bool>* cancel = nullptr;  // aborts the transfer when it becomes true
  // When set, a 2xx response body streams here instead of into HttpResponse::body.
  std::function<void(const char*, std::size_t)> on_body;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// The request never got an HTTP answer (refused, reset, timed out, TLS failure …).
class TransportError : public std::runtime_error {
 public:
  TransportError(std::string message, bool retryable, bool cancelled)
      : std::runtime_error(std::move(message)), retryable_(retryable), cancelled_(cancelled) {}
  bool retryable() const { return retryable_; }
  bool cancelled() const { return cancelled_; }

 private:
  bool retryable_;
  bool cancelled_;
};

class HttpClient {
 public:
  explicit HttpClient(HttpSettings settings);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse perform(const HttpRequest& request);

 private:
  void* acquire_handle();
  void release_handle(void* handle);

  HttpSettings settings_;
  std::mutex mutex_;
  std::vector<void*> idle_;  // CURL* easy handles, each keeping its connection alive
};

}  // namespace splitship
