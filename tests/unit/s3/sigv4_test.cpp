// The published examples of the S3 SigV4 documentation ("Examples: Signature Calculations",
// key AKIAIOSFODNN7EXAMPLE). botocore is the oracle for the generated cases
// (tests/integration/test_sigv4_botocore.py).
#include <gtest/gtest.h>

#include "splitship/s3.hpp"

using namespace splitship;

namespace {

const Credentials kDocKeys{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", "docs"};
const char* kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string signature_of(const std::string& authorization) {
  return authorization.substr(authorization.find("Signature=") + 10);
}

}  // namespace

TEST(SigV4, DocsGetObjectWithRange) {
  SigV4Request r{"GET", "/test.txt", {},
                 {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"},
                  {"x-amz-content-sha256", kEmptySha}, {"x-amz-date", "20130524T000000Z"}},
                 kEmptySha};
  EXPECT_EQ(sigv4_canonical_request(r),
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:" + std::string(kEmptySha) + "\nx-amz-date:20130524T000000Z\n\n"
            "host;range;x-amz-content-sha256;x-amz-date\n" + kEmptySha);
  const auto auth = sigv4_authorization(r, kDocKeys, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, DocsPutObjectWithDollarInKey) {
  const std::string body_sha = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";  // "Welcome to Amazon S3."
  SigV4Request r{"PUT", "/" + uri_encode("test$file.text", true), {},
                 {{"Host", "examplebucket.s3.amazonaws.com"}, {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                  {"x-amz-date", "20130524T000000Z"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                  {"x-amz-content-sha256", body_sha}},
                 body_sha};
  EXPECT_EQ(r.encoded_path, "/test%24file.text");
  EXPECT_EQ(signature_of(sigv4_authorization(r, kDocKeys, "us-east-1", "s3", "20130524T000000Z")),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, DocsGetBucketLifecycleEmptyQueryValue) {
  SigV4Request r{"GET", "/", {{"lifecycle", ""}},
                 {{"Host", "examplebucket.s3.amazonaws.com"}, {"x-amz-date", "20130524T000000Z"},
                  {"x-amz-content-sha256", kEmptySha}},
                 kEmptySha};
  EXPECT_EQ(signature_of(sigv4_authorization(r, kDocKeys, "us-east-1", "s3", "20130524T000000Z")),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, DocsListObjectsSortedQuery) {
  SigV4Request r{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}},
                 {{"Host", "examplebucket.s3.amazonaws.com"}, {"x-amz-date", "20130524T000000Z"},
                  {"x-amz-content-sha256", kEmptySha}},
                 kEmptySha};
  EXPECT_EQ(canonical_query_string(r.query), "max-keys=2&prefix=J");
  EXPECT_EQ(signature_of(sigv4_authorization(r, kDocKeys, "us-east-1", "s3", "20130524T000000Z")),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, UriEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(uri_encode("a b+c=d/é~_.-", true), "a%20b%2Bc%3Dd/%C3%A9~_.-");
  EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
}

TEST(SigV4, HeaderValuesAreTrimmedAndCollapsed) {
  SigV4Request r{"GET", "/k", {}, {{"X-Amz-Meta-A", "  two   spaces  here "}, {"host", "h"}}, kEmptySha};
  EXPECT_NE(sigv4_canonical_request(r).find("x-amz-meta-a:two spaces here\n"), std::string::npos);
}
