// Resolving S3 settings as the AWS CLI does: flags, then AWS_* variables, then the profile in
// the shared config/credentials files, then defaults.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "splitship/error.hpp"
#include "splitship/s3.hpp"
#include "splitship/size.hpp"


namespace splitship {
namespace {

// One section of an AWS INI file; nested blocks ("s3 =" followed by indented lines) are kept
// as "s3.addressing_style".
using IniSection = std::map<std::string, std::string>;
using IniFile = std::map<std::string, IniSection>;

std::string trim(std::string_view s) {
  const auto a = s.find_first_not_of(" \t\r");
  if (a == std::string_view::npos) return {};
  const auto b = s.find_last_not_of(" \t\r");
  return std::string(s.substr(a, b - a + 1));
}

IniFile read_ini(const std::string& path) {
  IniFile ini;
  std::ifstream in(path);
  if (!in) return ini;  // a missing file is simply not a source
  std::string line, section, nested;
  while (std::getline(in, line)) {
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = trim(t.substr(1, t.size() - 2));
      nested.clear();
      continue;
    }
    const auto eq = t.find('=');
    if (eq == std::string::npos || section.empty()) continue;
    const std::string key = trim(t.substr(0, eq));
    const std::string value = trim(t.substr(eq + 1));
    const bool indented = line[0] == ' ' || line[0] == '\t';
    if (indented && !nested.empty()) {
      ini[section][nested + "." + key] = value;
    } else if (value.empty()) {
      nested = key;  // start of a nested block such as "s3 ="
    } else {
      nested.clear();
      ini[section][key] = value;
    }
  }
  return ini;
}

struct Profile {
  std::string name;
  bool explicit_name = false;
  IniSection credentials;  // from the credentials file
  IniSection config;       // from the config file
  bool found() const { return !credentials.empty() || !config.empty(); }
  std::optional<std::string> get(const std::string& key) const {
    if (auto it = credentials.find(key); it != credentials.end()) return it->second;
    if (auto it = config.find(key); it != config.end()) return it->second;
    return std::nullopt;
  }
};

Profile load_profile(const S3Options& options, const EnvLookup& env) {
  Profile p;
  if (!options.profile.empty()) {
    p.name = options.profile;
    p.explicit_name = true;
  } else if (auto v = env("AWS_PROFILE"); v && !v->empty()) {
    p.name = *v;
    p.explicit_name = true;
  } else {
    p.name = "default";
  }
  const std::string home = env("HOME").value_or("");
  const std::string cred_path = env("AWS_SHARED_CREDENTIALS_FILE").value_or(home + "/.aws/credentials");
  const std::string conf_path = env("AWS_CONFIG_FILE").value_or(home + "/.aws/config");
  auto creds = read_ini(cred_path);
  auto conf = read_ini(conf_path);
  if (auto it = creds.find(p.name); it != creds.end()) p.credentials = it->second;
  const std::string conf_section = p.name == "default" ? "default" : "profile " + p.name;
  if (auto it = conf.find(conf_section); it != conf.end()) p.config = it->second;
  if (p.explicit_name && !p.found())
    fail(ErrorKind::Usage, "AWS profile '" + p.name + "' not found in " + cred_path + " or " + conf_path,
         "check --profile / AWS_PROFILE, or set AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE");
  return p;
}

std::optional<std::string> first_of(const EnvLookup& env, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (auto v = env(n); v && !v->empty()) return v;
  return std::nullopt;
}

Credentials resolve_credentials(const S3Options& options, const EnvLookup& env, const Profile& profile) {
  Credentials c;
  if (options.no_sign_request) {
    c.source = "anonymous (--no-sign-request)";
    return c;
  }
  auto from_profile = [&] {
    c.access_key_id = profile.get("aws_access_key_id").value_or("");
    c.secret_access_key = profile.get("aws_secret_access_key").value_or("");
    c.session_token = profile.get("aws_session_token").value_or("");
    c.source = "profile " + profile.name;
  };
  // As the AWS CLI: --profile beats the environment's keys; otherwise the keys in the
  // environment beat the (default or AWS_PROFILE) profile.
  const auto env_key = first_of(env, {"AWS_ACCESS_KEY_ID"});
  const auto env_secret = first_of(env, {"AWS_SECRET_ACCESS_KEY"});
  if (options.profile.empty() && env_key && env_secret) {
    c.access_key_id = *env_key;
    c.secret_access_key = *env_secret;
    c.session_token = first_of(env, {"AWS_SESSION_TOKEN"}).value_or("");
    c.source = "environment";
  } else {
    from_profile();
  }
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    fail(ErrorKind::Usage, "no AWS credentials found (looked at AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and profile '" +
                               profile.name + "')",
         "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --profile, or --no-sign-request for a public bucket");
  return c;
}

AddressingStyle parse_addressing(const std::string& s) {
  if (s.empty() || s == "auto") return AddressingStyle::Auto;
  if (s == "path") return AddressingStyle::Path;
  if (s == "virtual") return AddressingStyle::Virtual;
  fail(ErrorKind::Usage, "addressing style '" + s + "' is not one of auto, path, virtual");
}

ChecksumAlgorithm parse_checksum(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (s.empty() || s == "NONE") return ChecksumAlgorithm::None;
  if (s == "CRC64NVME") return ChecksumAlgorithm::Crc64Nvme;
  if (s == "CRC32C") return ChecksumAlgorithm::Crc32c;
  if (s == "SHA256") return ChecksumAlgorithm::Sha256;
  fail(ErrorKind::Usage, "checksum algorithm '" + s + "' is not one of CRC64NVME, CRC32C, SHA256, none");
}

std::string normalise_endpoint(std::string e) {
  if (e.find("://") == std::string::npos) e = "https://" + e;
  if (!e.starts_with("http://") && !e.starts_with("https://"))
    fail(ErrorKind::Usage, "endpoint '" + e + "' must start with http:// or https://");
  while (!e.empty() && e.back() == '/') e.pop_back();
  const auto host_start = e.find("://") + 3;
  if (e.find('/', host_start) != std::string::npos)
    fail(ErrorKind::Usage, "endpoint '" + e + "' has a path", "give only scheme://host[:port]");
  if (host_start == e.size()) fail(ErrorKind::Usage, "endpoint '" + e + "' has no host");
  return e;
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

S3Settings resolve_s3_settings(const S3Options& o, const EnvLookup& env) {
  const Profile profile = load_profile(o, env);
  S3Settings s;
  s.credentials = resolve_credentials(o, env, profile);

  if (!o.region.empty()) s.region = o.region;
  else if (auto v = first_of(env, {"AWS_REGION", "AWS_DEFAULT_REGION"})) s.region = *v;
  else if (auto p = profile.get("region")) s.region = *p;

  std::optional<std::string> endpoint;
  if (!o.endpoint_url.empty()) endpoint = o.endpoint_url;
  else if (auto v = first_of(env, {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"})) endpoint = v;
  else if (auto p = profile.get("endpoint_url")) endpoint = p;
  if (endpoint) s.endpoint = normalise_endpoint(*endpoint);

  s.addressing = parse_addressing(!o.addressing_style.empty() ? o.addressing_style
                                                              : profile.get("s3.addressing_style").value_or(""));

  if (o.max_attempts) s.max_attempts = *o.max_attempts;
  else if (auto v = first_of(env, {"AWS_MAX_ATTEMPTS"})) s.max_attempts = parse_int(*v, "AWS_MAX_ATTEMPTS");
  else if (auto p = profile.get("max_attempts")) s.max_attempts = parse_int(*p, "max_attempts in profile " + profile.name);
  if (s.max_attempts < 1) fail(ErrorKind::Usage, "max attempts must be at least 1");

  if (o.request_timeout_s) s.request_timeout_s = *o.request_timeout_s;
  if (o.connect_timeout_s) s.connect_timeout_s = *o.connect_timeout_s;
  if (s.request_timeout_s <= 0 || s.connect_timeout_s <= 0) fail(ErrorKind::Usage, "timeouts must be positive");

  if (!o.ca_bundle.empty()) s.ca_bundle = o.ca_bundle;
  else if (auto v = first_of(env, {"AWS_CA_BUNDLE"})) s.ca_bundle = *v;
  else if (auto p = profile.get("ca_bundle")) s.ca_bundle = *p;
  s.verify_tls = !o.no_verify_ssl;
  if (o.unsigned_payload && o.signed_payload)
    fail(ErrorKind::Usage, "--unsigned-payload and --signed-payload contradict each other", "pass one of them");
  s.payload_signing = o.unsigned_payload ? PayloadSigning::Unsigned
                      : o.signed_payload ? PayloadSigning::Signed
                                         : PayloadSigning::Auto;
  s.checksum = parse_checksum(o.checksum_algorithm);

  s.part_size = o.default_part_size;
  if (o.part_size) s.part_size = *o.part_size;
  else if (auto p = profile.get("s3.multipart_chunksize")) s.part_size = parse_size(*p, "s3.multipart_chunksize");
  if (s.part_size < kMinPartSize || s.part_size > kMaxPartSize)
    fail(ErrorKind::Usage, "part size " + format_size(s.part_size) + " is outside S3's limits",
         "use --part-size between 5MiB and 5GiB");

  if (o.concurrency) s.concurrency = *o.concurrency;
  else if (auto p = profile.get("s3.max_concurrent_requests"))
    s.concurrency = parse_int(*p, "s3.max_concurrent_requests in profile " + profile.name);
  if (s.concurrency < 1 || s.concurrency > 256) fail(ErrorKind::Usage, "--concurrency must be between 1 and 256");
  return s;
}

}  // namespace splitship
