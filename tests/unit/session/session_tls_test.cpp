// The securing stage of a Quectel session with TLS (issue 12), on a fake module and a manual clock:
// which files go up (only changed ones: flash wear), what the SSL context is set to, how the
// module's clock is made valid, and that TLS failures back off without climbing the ladder.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "modem/gpp/gpp_clock.hpp"
#include "modem/quectel/quectel_tls.hpp"
#include "modem/session/mqtt_session.hpp"
#include "support/session_harness.hpp"

namespace modem::session {
namespace {

using namespace std::chrono_literals;
using test_support::command_fields;
using test_support::ok_reply;
using test_support::SessionHarness;

const std::string kCa = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const std::string kCert = "-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n";
const std::string kKey = "-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n";
const std::string kUnsetClock = "80/01/06,00:00:10+00";  // an EC2x after boot
const std::string kNetworkTime = "2026/12/02,16:04:05+00,0";

std::string unquoted(std::string s) {
  if (s.size() >= 2 && s.front() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// A module's file store, SSL contexts and clock, as the Quectel file and SSL commands see them.
struct FakeTlsModule {
  std::map<std::string, std::string> files;  // "UFS:name" -> contents
  std::map<std::string, std::string> ssl;    // "<option>,<ctx>" -> value as written
  std::string clock = kUnsetClock;
  std::string network_time;  // +QLTS: "" unless set
  std::string ntp_reply = "+QNTP: 0,\"2026/12/02,16:04:05+00\"";
  std::string ntp_sets_clock = "26/12/02,16:04:05+00";
  int damage_uploads = 0;  // the next n uploads report a wrong checksum
  std::string open_result = "0";

  void install(test_support::FakeQuectel& m) {
    m.on("AT+QFLST=", [this](const std::string&) {
      std::string lines;
      for (const auto& [name, contents] : files)
        lines += fmt::format("{}+QFLST: \"{}\",{}", lines.empty() ? "" : "\r\n", name, contents.size());
      return ok_reply(lines);
    });
    m.on("AT+QFDEL=", [this](const std::string& c) {
      return files.erase(unquoted(command_fields(c).at(0))) ? ok_reply()
                                                            : std::string("\r\n+CME ERROR: 405\r\n");
    });
    m.on_data("AT+QFUPL=", {[](const std::string& c) -> std::size_t {
                              return static_cast<std::size_t>(std::stoul(command_fields(c).at(1)));
                            },
                            [this, &m](const std::string& c) {
                              const std::string data = m.payloads().back();
                              files[unquoted(command_fields(c).at(0))] = data;
                              std::uint16_t sum = quectel::upload_checksum(data);
                              if (damage_uploads > 0) {
                                --damage_uploads;
                                sum ^= 0x0101;
                              }
                              return fmt::format("+QFUPL: {},{:x}", data.size(), sum);
                            },
                            "\r\nCONNECT\r\n", true,
                            // A name that is taken is refused before CONNECT (field-notes.md 3.3).
                            [this](const std::string& c) {
                              return files.count(unquoted(command_fields(c).at(0)))
                                         ? std::string("\r\n+CME ERROR: 407\r\n")
                                         : std::string();
                            }});
    m.on("AT+QSSLCFG=", [this](const std::string& c) {
      const auto f = command_fields(c);
      const std::string key = unquoted(f.at(0)) + "," + f.at(1);
      if (f.size() == 2) return ok_reply(fmt::format("+QSSLCFG: {},{},{}", f.at(0), f.at(1), ssl[key]));
      ssl[key] = f.at(2);
      return ok_reply();
    });
    m.on("AT+CCLK?", [this](const std::string&) { return ok_reply("+CCLK: \"" + clock + "\""); });
    m.on("AT+CCLK=", [this](const std::string& c) {
      clock = unquoted(c.substr(8));
      return ok_reply();
    });
    m.on("AT+QLTS", [this](const std::string&) { return ok_reply("+QLTS: \"" + network_time + "\""); });
    m.on("AT+QNTP=", [this](const std::string&) {
      if (ntp_reply.starts_with("+QNTP: 0,")) clock = ntp_sets_clock;
      return ok_reply() + "\r\n" + ntp_reply + "\r\n";
    });
    m.on("AT+QMTOPEN=", [this](const std::string& c) {
      return ok_reply() + fmt::format("\r\n+QMTOPEN: {},{}\r\n", command_fields(c).at(0), open_result);
    });
  }
};

class SessionTls : public ::testing::Test {
 protected:
  void SetUp() override {
    fake.install(h.module);
    h.config.port = 8883;
    h.config.tls.enabled = true;
    h.config.tls.ca_pem = kCa;
  }

  void use_mutual_tls() {
    h.config.tls.cert_pem = kCert;
    h.config.tls.key_pem = kKey;
  }

  std::vector<std::string> sent(std::string_view prefix) const {
    std::vector<std::string> out;
    for (const auto& c : h.module.commands())
      if (c.starts_with(prefix)) out.push_back(c);
    return out;
  }

  // The module drops the MQTT connection (+QMTSTAT: 0,1): the session reconnects, passing the
  // securing stage again.
  void drop_and_reconnect() {
    h.module.say("\r\n+QMTSTAT: 0,1\r\n");
    h.pump();
    ASSERT_FALSE(h.session->ready());
    ASSERT_TRUE(h.run_until_ready());
  }

  SessionHarness h;
  FakeTlsModule fake;
};

TEST_F(SessionTls, FirstStartSetsTheClockUploadsEachFileAndTiesTheClientToTheContext) {
  use_mutual_tls();
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());

  // The clock read 1980 and the network gave no time: NTP over the data connection set it.
  EXPECT_EQ(sent("AT+QNTP="), std::vector<std::string>{"AT+QNTP=1,\"pool.ntp.org\",123,1"});
  ASSERT_TRUE(h.session->info().tls);
  EXPECT_EQ(h.session->info().tls->clock_source, "ntp");
  EXPECT_EQ(gpp::format_utc(*h.session->info().tls->module_time), "2026-12-02 16:04:05 UTC");

  // Three files, byte-exact, named after their contents; the key never in the clear elsewhere.
  ASSERT_EQ(sent("AT+QFUPL=").size(), 3u);
  EXPECT_EQ(h.module.payloads(), (std::vector<std::string>{kCa, kCert, kKey}));
  ASSERT_EQ(fake.files.size(), 3u);
  for (const auto& [name, contents] : fake.files)
    EXPECT_TRUE(name.starts_with("UFS:cellmqtt-")) << name;
  EXPECT_EQ(h.session->info().tls->files_uploaded, 3u);

  // The SSL context: mutual TLS, TLS 1.2, the clock checked, SNI on; then the client uses it.
  EXPECT_EQ(fake.ssl["seclevel,0"], "2");
  EXPECT_EQ(fake.ssl["sslversion,0"], "3");
  EXPECT_EQ(fake.ssl["ciphersuite,0"], "0XFFFF");
  EXPECT_EQ(fake.ssl["ignorelocaltime,0"], "0");
  EXPECT_EQ(fake.ssl["sni,0"], "1");
  EXPECT_TRUE(fake.files.count(unquoted(fake.ssl["cacert,0"])));
  EXPECT_EQ(fake.files[unquoted(fake.ssl["clientkey,0"])], kKey);
  EXPECT_EQ(fake.files[unquoted(fake.ssl["clientcert,0"])], kCert);
  EXPECT_EQ(sent("AT+QMTCFG=\"ssl\""), std::vector<std::string>{"AT+QMTCFG=\"ssl\",0,1,0"});
  EXPECT_TRUE(h.session->info().tls->last_error.empty());
}

TEST_F(SessionTls, UnchangedFilesAreNotWrittenAgain) {
  use_mutual_tls();
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  ASSERT_EQ(sent("AT+QFUPL=").size(), 3u);

  drop_and_reconnect();
  drop_and_reconnect();

  EXPECT_EQ(sent("AT+QFLST=").size(), 3u);  // looked at every time...
  EXPECT_EQ(sent("AT+QFUPL=").size(), 3u);  // ...written once
  EXPECT_TRUE(sent("AT+QFDEL=").empty());
  // The clock was set once; afterwards the module keeps it.
  EXPECT_EQ(sent("AT+QNTP=").size(), 1u);
  EXPECT_EQ(h.session->info().tls->clock_source, "module");
}

TEST_F(SessionTls, AChangedFileReplacesOnlyThatFile) {
  use_mutual_tls();
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  const std::string old_ca = unquoted(fake.ssl["cacert,0"]);

  TlsSettings renewed = h.config.tls;
  renewed.ca_pem = "-----BEGIN CERTIFICATE-----\nNEW CA\n-----END CERTIFICATE-----\n";
  h.session->set_tls(renewed);
  ASSERT_TRUE(h.run_until_ready());

  EXPECT_EQ(sent("AT+QFDEL="), std::vector<std::string>{"AT+QFDEL=\"" + old_ca + "\""});
  ASSERT_EQ(sent("AT+QFUPL=").size(), 4u);
  EXPECT_EQ(h.module.payloads().back(), renewed.ca_pem);
  EXPECT_EQ(fake.files.size(), 3u);
  EXPECT_EQ(fake.files[unquoted(fake.ssl["cacert,0"])], renewed.ca_pem);
}

TEST_F(SessionTls, SettingsThatDidNotChangeDoNotReconnect) {
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  const auto sessions = h.session->stats().sessions;
  h.session->set_tls(h.config.tls);
  h.pump();
  EXPECT_TRUE(h.session->ready());
  EXPECT_EQ(h.session->stats().sessions, sessions);
}

TEST_F(SessionTls, ANameTakenByAnotherFileIsDeletedAndWrittenAgain) {
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  // Our file's name with other contents (a power cut mid-upload in an earlier life): the listing
  // shows another size, the upload is refused with 407, and the file is replaced (field-notes.md 3.3).
  const std::string name = unquoted(fake.ssl["cacert,0"]);
  fake.files[name] = "half a file";
  drop_and_reconnect();
  EXPECT_EQ(fake.files[name], kCa);
  std::vector<std::string> file_commands;
  for (const auto& c : h.module.commands())
    if (c.starts_with("AT+QFUPL=") || c.starts_with("AT+QFDEL=")) file_commands.push_back(c.substr(0, 9));
  EXPECT_EQ(file_commands, (std::vector<std::string>{"AT+QFUPL=", "AT+QFUPL=", "AT+QFDEL=", "AT+QFUPL="}));
}

TEST_F(SessionTls, ADamagedUploadFailsAndIsReplacedOnTheNextAttempt) {
  fake.damage_uploads = 1;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(
      h.run_until([&] { return h.session->info().tls && !h.session->info().tls->last_error.empty(); }));
  EXPECT_NE(h.session->info().tls->last_error.find("arrived damaged"), std::string::npos)
      << h.session->info().tls->last_error;
  ASSERT_TRUE(h.run_until_ready());
  // The damaged file had the right name and size: it was deleted and written again all the same.
  EXPECT_EQ(sent("AT+QFDEL=").size(), 1u);
  EXPECT_EQ(sent("AT+QFUPL=").size(), 2u);
  EXPECT_TRUE(h.session->info().tls->last_error.empty());
}

TEST_F(SessionTls, TheNetworksTimeIsUsedBeforeNtp) {
  fake.network_time = kNetworkTime;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  EXPECT_EQ(sent("AT+CCLK="), std::vector<std::string>{"AT+CCLK=\"26/12/02,16:04:05+00\""});
  EXPECT_TRUE(sent("AT+QNTP=").empty());
  EXPECT_EQ(h.session->info().tls->clock_source, "network");
}

TEST_F(SessionTls, AClockThatCannotBeSetIsOneClearErrorAndNeverResetsTheModule) {
  fake.ntp_reply = "+QNTP: 565";
  ASSERT_TRUE(h.start());
  h.advance(10min);
  ASSERT_TRUE(h.session->info().tls);
  const std::string error = h.session->info().tls->last_error;
  EXPECT_NE(error.find("the module's clock is not set (1980-01-06 00:00:10 UTC)"), std::string::npos)
      << error;
  EXPECT_NE(error.find("NTP via pool.ntp.org failed (the server's name did not resolve)"), std::string::npos)
      << error;
  EXPECT_GE(sent("AT+QNTP=").size(), 4u);  // tried again after each backoff
  EXPECT_EQ(h.session->rung(), Rung::kReopen);
  EXPECT_TRUE(sent("AT+CFUN").empty());
  EXPECT_TRUE(sent("AT+QMTOPEN=").empty());  // no handshake that can only fail
}

TEST_F(SessionTls, ACertificateExpiredByTheModulesClockIsNamed) {
  fake.network_time = kNetworkTime;
  h.config.tls.valid_until = std::chrono::sys_days{std::chrono::year{2026} / 11 / 30};
  h.config.tls.valid_until_file = "client certificate /etc/cellmqttd/device.crt";
  ASSERT_TRUE(h.start());
  h.advance(5min);
  const std::string error = h.session->info().tls->last_error;
  EXPECT_NE(
      error.find("the client certificate /etc/cellmqttd/device.crt expired on 2026-11-30 00:00:00 UTC by the "
                 "module's clock (2026-12-02 16:04:05 UTC)"),
      std::string::npos)
      << error;
  EXPECT_EQ(h.session->rung(), Rung::kReopen);
  EXPECT_TRUE(sent("AT+QMTOPEN=").empty());
}

TEST_F(SessionTls, AFailedHandshakeNamesTheLikelyCausesAndBacksOffWithoutClimbing) {
  fake.open_result = "-1";
  fake.network_time = kNetworkTime;
  ASSERT_TRUE(h.start());
  h.advance(15min);
  const std::string error = h.session->info().tls->last_error;
  EXPECT_NE(
      error.find("+QMTOPEN: 0,-1: the TLS connection to broker.example.com:8883 failed; likely causes, in "
                 "order: 1) the CA"),
      std::string::npos)
      << error;
  EXPECT_NE(error.find("2) the module's clock (2026-12-02 16:04:05 UTC, from network)"), std::string::npos)
      << error;
  EXPECT_NE(error.find("the module's SSL context: seclevel 1, cacert \"UFS:cellmqtt-ca-"), std::string::npos)
      << error;
  EXPECT_GE(sent("AT+QMTOPEN=").size(), 5u);
  EXPECT_EQ(h.session->rung(), Rung::kReopen);
  EXPECT_TRUE(sent("AT+CFUN").empty());
  EXPECT_TRUE(sent("AT+QIDEACT").empty());
}

TEST_F(SessionTls, VerifyNoneNeedsNoClockAndNoCa) {
  h.config.tls.verify_peer = false;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  EXPECT_TRUE(sent("AT+CCLK").empty());
  EXPECT_TRUE(sent("AT+QNTP").empty());
  EXPECT_TRUE(sent("AT+QFUPL=").empty());
  EXPECT_EQ(fake.ssl["seclevel,0"], "0");
  EXPECT_EQ(fake.ssl["ignorelocaltime,0"], "1");
}

TEST_F(SessionTls, WithoutTlsNothingIsUploadedAndTheClientIsPlain) {
  h.config.tls = {};
  h.config.port = 1883;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  EXPECT_TRUE(sent("AT+QFLST").empty());
  EXPECT_TRUE(sent("AT+QSSLCFG").empty());
  EXPECT_TRUE(sent("AT+CCLK").empty());
  EXPECT_EQ(sent("AT+QMTCFG=\"ssl\""), std::vector<std::string>{"AT+QMTCFG=\"ssl\",0,0"});
  EXPECT_FALSE(h.session->info().tls);
}

}  // namespace
}  // namespace modem::session
