#include "s3/http_client.hpp"

#include <curl/curl.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstring>
#include <mutex>

namespace splitship {
namespace {

std::once_flag g_curl_init;  // libcurl's own process-wide initialisation, done once

struct UploadCursor {
  const RequestBody& body;
  std::size_t offset = 0;
  bool file_ended = false;  // the file had fewer bytes than the body's size
};

// A file body is read straight into curl's upload buffer, from the page cache when it was just
// hashed: no part buffer of our own is filled (and faulted in) first.
std::size_t read_body(char* dst, std::size_t size, std::size_t count, void* user) {
  auto* c = static_cast<UploadCursor*>(user);
  const std::size_t n = std::min(size * count, c->body.size - c->offset);
  if (c->body.fd < 0) {
    std::memcpy(dst, c->body.data + c->offset, n);
    c->offset += n;
    return n;
  }
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(c->body.fd, dst + done, n - done, static_cast<off_t>(c->body.file_offset + c->offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      c->file_ended = true;
      return CURL_READFUNC_ABORT;
    }
    done += static_cast<std::size_t>(got);
  }
  c->offset += n;
  return n;
}

int seek_body(void* user, curl_off_t offset, int origin) {
  auto* c = static_cast<UploadCursor*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > c->body.size) return CURL_SEEKFUNC_FAIL;
  c->offset = static_cast<std::size_t>(offset);  // curl rewinds when it resends on a reused connection
  return CURL_SEEKFUNC_OK;
}

struct BodyTarget {
  CURL* curl;
  std::string* buffer;
  const std::function<void(const char*, std::size_t)>* on_body;
};

std::size_t write_body(char* src, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<BodyTarget*>(user);
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (*t->on_body && status >= 200 && status < 300) (*t->on_body)(src, size * count);
  else t->buffer->append(src, size * count);  // error bodies are always kept for the message
  return size * count;
}

std::size_t write_header(char* src, std::size_t size, std::size_t count, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  std::string_view line(src, size * count);
  if (line.starts_with("HTTP/")) {
    response->headers.clear();  // a new status line (e.g. after 100 Continue) starts over
    return size * count;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
  response->headers[name] = std::string(value);
  return size * count;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<const std::atomic<bool>*>(user);
  return cancel && cancel->load(std::memory_order_relaxed) ? 1 : 0;
}

bool retryable_curl_error(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

}  // namespace

HttpClient::HttpClient(HttpSettings settings) : settings_(std::move(settings)) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpClient::~HttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::acquire_handle() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpClient::release_handle(void* handle) {
  std::lock_guard lock(mutex_);
  idle_.push_back(handle);
}

HttpResponse HttpClient::perform(const HttpRequest& request) {
  CURL* curl = static_cast<CURL*>(acquire_handle());
  if (!curl) throw TransportError("cannot create an HTTP handle", false, false);
  curl_easy_reset(curl);  // keeps the connection cache, drops the previous request's options

  HttpResponse response;
  UploadCursor cursor{request.body};
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers)
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  // No "Expect: 100-continue" round trip before each part: errors come back just as well.
  headers = curl_slist_append(headers, "Expect:");
  headers = curl_slist_append(headers, "Accept:");

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout_s * 1000));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>(settings_.stall_timeout_s)));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, settings_.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, settings_.verify_tls ? 2L : 0L);
  if (!settings_.ca_bundle.empty() && request.url.starts_with("https://"))
    curl_easy_setopt(curl, CURLOPT_CAINFO, settings_.ca_bundle.c_str());
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  if (!settings_.user_agent.empty()) curl_easy_setopt(curl, CURLOPT_USERAGENT, settings_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L * 1024);
  curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
  BodyTarget body_target{curl, &response.body, &request.on_body};
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body_target);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, write_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(request.cancel));

  if (request.head) {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);  // streams from the caller's buffer, no copy
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(curl, CURLOPT_READDATA, &cursor);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, seek_body);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &cursor);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size));
    if (request.method == "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) {
    // A failed transfer may leave the connection in an unknown state: do not reuse it.
    curl_easy_cleanup(curl);
    if (cursor.file_ended)
      throw TransportError("the file being sent ended before its " + std::to_string(request.body.size) +
                               " bytes: it changed while it was read",
                           false, false);
    const bool cancelled = code == CURLE_ABORTED_BY_CALLBACK;
    std::string text = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
    throw TransportError(text, !cancelled && retryable_curl_error(code), cancelled);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  release_handle(curl);
  return response;
}

}  // namespace splitship
