// What an SSL context makes of the files in the store before any connection: the errors a host
// would otherwise only see as +QMTOPEN: <idx>,-1, each saying what is wrong.
#include "tls_client_context.hpp"

#include <gtest/gtest.h>

#include "support/test_pki.hpp"

namespace modemsim {
namespace {

const auto kNow = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());

class TlsClientContext : public ::testing::Test {
 protected:
  void put(const std::string& name, const std::string& data) { files.put(*FileStore::parse(name), data); }
  std::string error(const std::string& host = "localhost") {
    auto made = make_tls_client(context, files, host, kNow);
    return made ? std::string("(made)") : made.error().message;
  }

  test_support::TestCa ca;
  FileStore files;
  SslContext context;
};

TEST_F(TlsClientContext, SeclevelZeroNeedsNoFiles) {
  auto made = make_tls_client(context, files, "broker.example.com", kNow);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(made.value().server_name, "");  // sni is off by default
}

TEST_F(TlsClientContext, VerifyingWithoutTheCaFileSaysWhichFileIsMissing) {
  context.seclevel = 1;
  EXPECT_EQ(error(), "no cacert file configured in the SSL context");
  context.cacert = "UFS:ca.pem";
  EXPECT_EQ(error(), "no cacert file UFS:ca.pem in the store");
  put("RAM:ca.pem", ca.cert_pem());  // another drive
  EXPECT_EQ(error(), "no cacert file UFS:ca.pem in the store");
  put("ca.pem", "not a certificate");
  EXPECT_EQ(error(), "cacert UFS:ca.pem holds no PEM certificate");
  put("ca.pem", ca.cert_pem());
  EXPECT_EQ(error(), "(made)");
}

TEST_F(TlsClientContext, MutualTlsNeedsAKeyThatMatchesTheCertificate) {
  test_support::CertificateOptions options;
  options.common_name = "device";
  options.client = true;
  const auto client = ca.issue(options);
  put("ca.pem", ca.cert_pem());
  put("client.pem", client.cert_pem);
  put("client.key", test_support::make_private_key_pem());
  context.cacert = "ca.pem";
  context.clientcert = "client.pem";
  context.clientkey = "client.key";
  context.seclevel = 2;
  EXPECT_EQ(error(), "client key client.key does not match the client certificate client.pem");
  files.remove(*FileStore::parse("client.key"));
  EXPECT_EQ(error(), "no clientkey file client.key in the store");
  put("client.key", client.key_pem);
  EXPECT_EQ(error(), "(made)");
  context.seclevel = 1;  // the client certificate is only presented at seclevel 2
  files.remove(*FileStore::parse("client.key"));
  EXPECT_EQ(error(), "(made)");
}

TEST_F(TlsClientContext, SniGoesOutOnlyForAHostName) {
  context.sni = 1;
  EXPECT_EQ(make_tls_client(context, files, "broker.example.com", kNow).value().server_name,
            "broker.example.com");
  EXPECT_EQ(make_tls_client(context, files, "127.0.0.1", kNow).value().server_name, "");
  EXPECT_EQ(make_tls_client(context, files, "::1", kNow).value().server_name, "");
}

TEST_F(TlsClientContext, OneCipherSuiteByItsNumber) {
  context.ciphersuite = 0xC02B;  // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
  EXPECT_EQ(error(), "(made)");
  context.ciphersuite = 0x1234;
  EXPECT_EQ(error(), "ciphersuite 0X1234 is not a TLS 1.2 suite this stack has");
}

}  // namespace
}  // namespace modemsim
