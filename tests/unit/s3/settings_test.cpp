// Settings resolve as the AWS CLI does: flags, then environment, then profile files, then defaults.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "splitship/error.hpp"
#include "splitship/s3.hpp"

using namespace splitship;
namespace fs = std::filesystem;

namespace {

class SettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("splitship-settings-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / ".aws");
    vars_["HOME"] = dir_.string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / ".aws" / name) << text; }
  EnvLookup env() {
    return [this](const std::string& n) -> std::optional<std::string> {
      auto it = vars_.find(n);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }
  fs::path dir_;
  std::map<std::string, std::string> vars_;
};

}  // namespace

TEST_F(SettingsTest, EnvironmentKeysAndDefaults) {
  vars_["AWS_ACCESS_KEY_ID"] = "AKENV";
  vars_["AWS_SECRET_ACCESS_KEY"] = "secret-env";
  const S3Settings s = resolve_s3_settings({}, env());
  EXPECT_EQ(s.credentials.access_key_id, "AKENV");
  EXPECT_EQ(s.credentials.source, "environment");
  EXPECT_EQ(s.region, "us-east-1");
  EXPECT_EQ(s.endpoint, "");
  EXPECT_EQ(s.max_attempts, 5);
  EXPECT_EQ(s.part_size, kDefaultPartSize);
  EXPECT_EQ(s.concurrency, 8);
}

TEST_F(SettingsTest, FlagsBeatEnvironmentBeatsProfile) {
  write("credentials", "[default]\naws_access_key_id = AKFILE\naws_secret_access_key = secret-file\n");
  write("config", "[default]\nregion = eu-west-1\nendpoint_url = http://profile:9000\nmax_attempts = 7\n");
  {
    const S3Settings s = resolve_s3_settings({}, env());
    EXPECT_EQ(s.credentials.access_key_id, "AKFILE");
    EXPECT_EQ(s.region, "eu-west-1");
    EXPECT_EQ(s.endpoint, "http://profile:9000");
    EXPECT_EQ(s.max_attempts, 7);
  }
  vars_["AWS_REGION"] = "ap-south-1";
  vars_["AWS_ENDPOINT_URL"] = "http://generic:1";
  vars_["AWS_ENDPOINT_URL_S3"] = "http://s3-specific:2/";
  vars_["AWS_MAX_ATTEMPTS"] = "3";
  {
    const S3Settings s = resolve_s3_settings({}, env());
    EXPECT_EQ(s.region, "ap-south-1");
    EXPECT_EQ(s.endpoint, "http://s3-specific:2");
    EXPECT_EQ(s.max_attempts, 3);
  }
  S3Options flags;
  flags.region = "us-west-2";
  flags.endpoint_url = "http://flag:3";
  flags.max_attempts = 1;
  const S3Settings s = resolve_s3_settings(flags, env());
  EXPECT_EQ(s.region, "us-west-2");
  EXPECT_EQ(s.endpoint, "http://flag:3");
  EXPECT_EQ(s.max_attempts, 1);
}

TEST_F(SettingsTest, NamedProfileBeatsEnvironmentKeys) {
  write("credentials", "[dev]\naws_access_key_id = AKDEV\naws_secret_access_key = secret-dev\naws_session_token = tok\n");
  write("config", "[profile dev]\nregion = eu-central-1\ns3 =\n  addressing_style = virtual\n  multipart_chunksize = 16MiB\n");
  vars_["AWS_ACCESS_KEY_ID"] = "AKENV";
  vars_["AWS_SECRET_ACCESS_KEY"] = "secret-env";
  S3Options flags;
  flags.profile = "dev";
  const S3Settings s = resolve_s3_settings(flags, env());
  EXPECT_EQ(s.credentials.access_key_id, "AKDEV");
  EXPECT_EQ(s.credentials.session_token, "tok");
  EXPECT_EQ(s.region, "eu-central-1");
  EXPECT_EQ(s.addressing, AddressingStyle::Virtual);
  EXPECT_EQ(s.part_size, 16ULL << 20);
}

TEST_F(SettingsTest, AwsProfileVariableAndCustomFilePaths) {
  const auto creds = dir_ / "elsewhere-credentials";
  std::ofstream(creds) << "[ci]\naws_access_key_id = AKCI\naws_secret_access_key = s\n";
  vars_["AWS_SHARED_CREDENTIALS_FILE"] = creds.string();
  vars_["AWS_PROFILE"] = "ci";
  EXPECT_EQ(resolve_s3_settings({}, env()).credentials.access_key_id, "AKCI");
}

TEST_F(SettingsTest, ClearErrors) {
  S3Options flags;
  flags.profile = "missing";
  try {
    resolve_s3_settings(flags, env());
    FAIL() << "a missing named profile must be an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("profile 'missing' not found"), std::string::npos);
    EXPECT_EQ(e.exit_code(), 2);
  }
  EXPECT_THROW(resolve_s3_settings({}, env()), Error);  // no credentials anywhere
  vars_["AWS_ACCESS_KEY_ID"] = "AK";
  vars_["AWS_SECRET_ACCESS_KEY"] = "very-secret-value";
  S3Options small;
  small.part_size = 1 << 20;
  try {
    resolve_s3_settings(small, env());
    FAIL() << "a part size below 5 MiB must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("very-secret-value"), std::string::npos);
  }
  S3Options bad_endpoint;
  bad_endpoint.endpoint_url = "ftp://x";
  EXPECT_THROW(resolve_s3_settings(bad_endpoint, env()), Error);
  S3Options bad_checksum;
  bad_checksum.checksum_algorithm = "md4";
  EXPECT_THROW(resolve_s3_settings(bad_checksum, env()), Error);
}

TEST_F(SettingsTest, AnonymousNeedsNoKeys) {
  S3Options flags;
  flags.no_sign_request = true;
  EXPECT_TRUE(resolve_s3_settings(flags, env()).credentials.anonymous());
}

namespace {

class PayloadSigningTest : public SettingsTest {};

TEST_F(PayloadSigningTest, DefaultIsAutoAndFlagsChooseAndContradictionIsRefused) {
  vars_["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE";
  vars_["AWS_SECRET_ACCESS_KEY"] = "secret";
  EXPECT_EQ(resolve_s3_settings({}, env()).payload_signing, PayloadSigning::Auto);
  S3Options signed_flag;
  signed_flag.signed_payload = true;
  EXPECT_EQ(resolve_s3_settings(signed_flag, env()).payload_signing, PayloadSigning::Signed);
  S3Options unsigned_flag;
  unsigned_flag.unsigned_payload = true;
  EXPECT_EQ(resolve_s3_settings(unsigned_flag, env()).payload_signing, PayloadSigning::Unsigned);
  S3Options both = signed_flag;
  both.unsigned_payload = true;
  EXPECT_THROW(resolve_s3_settings(both, env()), Error);
}

}  // namespace
