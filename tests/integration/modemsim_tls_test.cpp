// modemsim's TLS end to end, against a real mosquitto whose listener speaks only TLS, with
// certificates made for the run (test_pki.hpp). The host provisions the module as users do
// (field-notes.md 3.1): AT+QFUPL the PEM files, AT+QSSLCFG a context, AT+QMTCFG="SSL" the client.
// AT+QMTOPEN then does a real handshake, checked as the context says; any TLS failure is
// +QMTOPEN: <idx>,-1 (field-notes.md 3.3), with the reason in modemsim's log.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "modemsim_terminal.hpp"
#include "support/mqtt_test_client.hpp"
#include "support/test_pki.hpp"

namespace {

using namespace std::string_literals;
using modemsim_e2e::info;
using modemsim_e2e::kOk;
using std::chrono::hours;
using std::chrono::seconds;
using test_support::BrokerOptions;
using test_support::BrokerTls;
using test_support::CertificateOptions;
using test_support::ClientTls;
using test_support::Credential;
using test_support::MqttTestClient;
using test_support::TestCa;

// The SSL context every test configures (the application notes' example uses 2, for client 0).
constexpr int kCtx = 2;

CertificateOptions server_options() {
  CertificateOptions options;
  options.common_name = "localhost";
  options.alt_names = {"localhost", "127.0.0.1"};
  return options;
}

CertificateOptions client_options() {
  CertificateOptions options;
  options.common_name = "device-0001";
  options.client = true;
  return options;
}

class ModemsimTls : public modemsim_e2e::ModemsimTerminal {
 protected:
  void SetUp() override {}  // each test starts its own broker

  // A TLS broker with `server` as its certificate (by default one for localhost and 127.0.0.1).
  void start_tls(std::vector<std::string> args = {}, bool require_client_cert = false,
                 std::optional<Credential> server = std::nullopt) {
    const Credential cert = server ? *server : ca.issue(server_options());
    BrokerOptions options;
    options.tls = BrokerTls{ca.cert_pem(), cert.cert_pem, cert.key_pem, require_client_cert};
    start(std::move(args), std::move(options));
  }

  void upload(const std::string& name, const std::string& data) {
    ASSERT_EQ(
        term->exchange("AT+QFUPL=\"" + name + "\"," + std::to_string(data.size()) + ",10\r", "CONNECT\r\n"),
        "\r\nCONNECT\r\n");
    const std::string result = term->exchange(data, kOk);
    ASSERT_TRUE(result.starts_with("\r\n+QFUPL: " + std::to_string(data.size()) + ",")) << result;
  }
  void sslcfg(const std::string& option, const std::string& value) {
    expect("AT+QSSLCFG=\"" + option + "\"," + std::to_string(kCtx) + "," + value, kOk);
  }
  // Server verification with `ca_pem` as the trusted CA, validity not checked (as most users set it).
  void verify_server_with(const std::string& ca_pem) {
    upload("UFS:cellmqtt-ca.pem", ca_pem);
    sslcfg("cacert", "\"UFS:cellmqtt-ca.pem\"");
    sslcfg("seclevel", "1");
    sslcfg("sslversion", "4");
    sslcfg("ciphersuite", "0XFFFF");
    sslcfg("ignorelocaltime", "1");
  }
  void present_client(const Credential& client) {
    upload("UFS:cellmqtt-client.pem", client.cert_pem);
    upload("UFS:cellmqtt-client.key", client.key_pem);
    sslcfg("clientcert", "\"UFS:cellmqtt-client.pem\"");
    sslcfg("clientkey", "\"UFS:cellmqtt-client.key\"");
    sslcfg("seclevel", "2");
  }
  // AT+QMTCFG="SSL", the PDP context, AT+QMTOPEN to `host`: returns the +QMTOPEN result.
  std::string open(const std::string& host = "localhost") {
    expect("AT+QMTCFG=\"SSL\",0,1," + std::to_string(kCtx), kOk);
    expect("AT+QICSGP=1,1,\"internet\",\"\",\"\",1", kOk);
    expect("AT+QIACT=1", kOk);
    expect("AT+QMTOPEN=0,\"" + host + "\",8883", kOk);
    const std::string urc =
        term->read_until([](const std::string& out) { return out.size() > 2 && out.ends_with("\r\n"); });
    return urc;
  }
  void expect_open_fails(const std::string& why, const std::string& host = "localhost") {
    EXPECT_EQ(open(host), "\r\n+QMTOPEN: 0,-1\r\n");
    const std::string log = sim->log();
    EXPECT_NE(log.find("+QMTOPEN: 0,-1: "), std::string::npos) << log;
    EXPECT_NE(log.find(why), std::string::npos) << log;
    expect("AT+QMTOPEN?", kOk);  // nothing is left open
  }
  // QMTCONN, then a publish that must reach a TLS subscriber byte-exact.
  void connect_and_publish() {
    // The cloud's own client certificate, which a broker that requires one asks of it too.
    const Credential cloud_cert = ca.issue(client_options());
    MqttTestClient cloud;
    cloud.connect(broker->port(), "cloud", std::nullopt, std::nullopt, true,
                  ClientTls{ca.cert_pem(), cloud_cert.cert_pem, cloud_cert.key_pem});
    cloud.subscribe("dev/up", 1);
    expect("AT+QMTCONN=0,\"tls-device\"", kOk);
    expect_urc("+QMTCONN: 0,0,0");
    const std::string up = "{\"t\":21.5}\r\nOK\r\n\x00\x1a\x1b\xff> end"s;
    expect("AT+QMTPUBEX=0,1,1,0,\"dev/up\"," + std::to_string(up.size()), "\r\n> ");
    EXPECT_EQ(term->exchange(up, "+QMTPUBEX: 0,1,0\r\n"), kOk + "\r\n+QMTPUBEX: 0,1,0\r\n");
    const auto got = cloud.wait_for_messages(1, seconds(10));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].payload, up);
    // And down: the cloud's publish comes out of the TLS session as +QMTRECV.
    expect("AT+QMTSUB=0,2,\"dev/down\",1", kOk);
    expect_urc("+QMTSUB: 0,2,0,1");
    cloud.publish("dev/down", "on", 1);
    expect_urc("+QMTRECV: 0,1,\"dev/down\",\"on\"");
  }

  TestCa ca;
};

class ModemsimTlsEveryModel : public ModemsimTls, public ::testing::WithParamInterface<const char*> {};

TEST_P(ModemsimTlsEveryModel, VerifiedServerOpensConnectsAndCarriesMessagesByteExact) {
  start_tls({"--model", GetParam()});
  verify_server_with(ca.cert_pem());
  EXPECT_EQ(open("localhost"), "\r\n+QMTOPEN: 0,0\r\n");
  connect_and_publish();
  EXPECT_TRUE(broker->log().find("tls-device") != std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Quectel, ModemsimTlsEveryModel, ::testing::Values("ec200u", "ec2x", "ec200x"),
                         [](const auto& info) { return std::string(info.param); });

TEST_F(ModemsimTls, AnAddressIsCheckedAgainstTheCertificatesIpEntries) {
  start_tls();
  verify_server_with(ca.cert_pem());
  sslcfg("sslversion", "3");  // TLS 1.2 only
  EXPECT_EQ(open("127.0.0.1"), "\r\n+QMTOPEN: 0,0\r\n");
}

TEST_F(ModemsimTls, MutualTlsPresentsTheUploadedClientCertificate) {
  start_tls({}, true);
  verify_server_with(ca.cert_pem());
  present_client(ca.issue(client_options()));
  EXPECT_EQ(open(), "\r\n+QMTOPEN: 0,0\r\n");
  connect_and_publish();
}

TEST_F(ModemsimTls, SeclevelZeroChecksNothing) {
  start_tls();
  TestCa stranger("another CA");
  upload("UFS:cellmqtt-ca.pem", stranger.cert_pem());
  sslcfg("cacert", "\"UFS:cellmqtt-ca.pem\"");
  sslcfg("seclevel", "0");
  EXPECT_EQ(open("wrong.example"), "\r\n+QMTOPEN: 0,0\r\n");
  connect_and_publish();
}

TEST_F(ModemsimTls, ABrokerThatWantsAClientCertificateRefusesSeclevelOne) {
  start_tls({}, true);
  verify_server_with(ca.cert_pem());
  expect_open_fails("TLS handshake with \"localhost\" failed");
}

TEST_F(ModemsimTls, AnotherCaFails) {
  start_tls();
  TestCa stranger("another CA");
  verify_server_with(stranger.cert_pem());
  // mosquitto sends its CA along with its certificate, so OpenSSL names the root it cannot trust.
  expect_open_fails("certificate verify failed: self-signed certificate in certificate chain");
}

TEST_F(ModemsimTls, AnExpiredServerCertificateFailsEvenWithoutTheModulesClock) {
  CertificateOptions expired = server_options();
  expired.not_before = -hours(48);
  expired.not_after = -hours(1);
  start_tls({"--network-time"}, false, ca.issue(expired));
  verify_server_with(ca.cert_pem());
  sslcfg("ignorelocaltime", "0");
  expect_open_fails("certificate verify failed: certificate has expired");
}

TEST_F(ModemsimTls, TheModulesClockIn1980FailsUntilNtpSetsIt) {
  start_tls();
  verify_server_with(ca.cert_pem());
  sslcfg("ignorelocaltime", "0");
  expect_open_fails("certificate verify failed: certificate is not yet valid");
  expect("AT+QNTP=1,\"pool.ntp.org\"", kOk);
  term->read_until([](const std::string& out) { return out.ends_with("\"\r\n"); });
  expect("AT+QMTOPEN=0,\"localhost\",8883", kOk);
  expect_urc("+QMTOPEN: 0,0");
}

TEST_F(ModemsimTls, IgnoreLocalTimeConnectsWithTheClockIn1980) {
  start_tls();
  verify_server_with(ca.cert_pem());  // ignorelocaltime 1
  EXPECT_TRUE(answer("AT+CCLK?").find("\"80/01/06,") != std::string::npos);
  EXPECT_EQ(open(), "\r\n+QMTOPEN: 0,0\r\n");
  connect_and_publish();
}

TEST_F(ModemsimTls, AHostNameTheCertificateDoesNotNameFails) {
  start_tls();
  verify_server_with(ca.cert_pem());
  expect_open_fails("certificate verify failed: hostname mismatch", "wrong.example");
}

TEST_F(ModemsimTls, AClientKeyThatDoesNotMatchItsCertificateFails) {
  start_tls({}, true);
  verify_server_with(ca.cert_pem());
  Credential mismatched = ca.issue(client_options());
  mismatched.key_pem = test_support::make_private_key_pem();
  present_client(mismatched);
  expect_open_fails("does not match the client certificate");
}

TEST_F(ModemsimTls, AFileTheContextNamesButTheStoreLacksFails) {
  start_tls();
  sslcfg("cacert", "\"UFS:never-uploaded.pem\"");  // accepted here: only the handshake looks
  sslcfg("seclevel", "1");
  expect_open_fails("no cacert file UFS:never-uploaded.pem in the store");
}

}  // namespace
