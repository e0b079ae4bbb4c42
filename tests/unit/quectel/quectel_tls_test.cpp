// The Quectel commands and answers TLS needs (quectel_tls.hpp) and the module's clock (gpp_clock.hpp):
// the upload's checksum, the file list, the SSL settings as the modules take them, the clock
// readings of a freshly booted module and of the network.
#include "modem/quectel/quectel_tls.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "modem/gpp/gpp_clock.hpp"
#include "support/command_case.hpp"

namespace modem::quectel {
namespace {

using namespace std::chrono;
using namespace std::string_literals;
using test_support::CommandCase;

TEST(QuectelTls, UploadChecksumXorsBigEndianWordsAndPadsAnOddByte) {
  EXPECT_EQ(upload_checksum(""), 0x0000);
  EXPECT_EQ(upload_checksum("\x12\x34"s), 0x1234);
  EXPECT_EQ(upload_checksum("\x12\x34\x56"s), 0x1234 ^ 0x5600);
  EXPECT_EQ(upload_checksum("\xff\xff\xff\xff"s), 0x0000);
  EXPECT_EQ(upload_checksum("\x00\x80\x01"s), 0x0080 ^ 0x0100);
}

TEST(QuectelTls, CommandsAreWrittenAsTheModulesTakeThem) {
  for (const CommandCase& c : {
           CommandCase{"file list", list_files(), "AT+QFLST=\"UFS:*\"", {"+QFLST:"}},
           CommandCase{"delete", delete_file("UFS:a.pem"), "AT+QFDEL=\"UFS:a.pem\""},
           // field-notes.md 3.1: the ciphersuite unquoted, the context index on every option.
           CommandCase{"ciphersuite", ssl_set("ciphersuite", 2, "0XFFFF"),
                       "AT+QSSLCFG=\"ciphersuite\",2,0XFFFF"},
           CommandCase{"cacert", ssl_set("cacert", 0, "\"UFS:ca.pem\""),
                       "AT+QSSLCFG=\"cacert\",0,\"UFS:ca.pem\""},
           CommandCase{"query", ssl_query("seclevel", 1), "AT+QSSLCFG=\"seclevel\",1", {"+QSSLCFG:"}},
           CommandCase{"ssl on", mqtt_ssl(0, true, 0), "AT+QMTCFG=\"ssl\",0,1,0"},
           CommandCase{"ssl off", mqtt_ssl(1, false, 1), "AT+QMTCFG=\"ssl\",1,0"},
           CommandCase{"network time", network_time(), "AT+QLTS=2", {"+QLTS:"}},
           CommandCase{"clock", gpp::query_clock(), "AT+CCLK?", {"+CCLK:"}},
           CommandCase{"set clock", gpp::set_clock(sys_days{year{2026} / 12 / 2} + 16h + 4min + 5s),
                       "AT+CCLK=\"26/12/02,16:04:05+00\""},
       }) {
    test_support::expect_one_shot_command(c);
  }
}

TEST(QuectelTls, UploadWaitsForConnectAndKeepsAKeyOutOfTheTrace) {
  const std::string key = "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n";
  const at::Command c = upload_file("UFS:k.pem", key, true);
  EXPECT_EQ(c.text, "AT+QFUPL=\"UFS:k.pem\"," + std::to_string(key.size()) + ",100");
  EXPECT_EQ(c.prompt, at::Prompt::kConnect);
  EXPECT_EQ(c.payload, key);
  EXPECT_TRUE(c.secret_payload);
  EXPECT_EQ(c.response_prefixes, std::vector<std::string>{"+QFUPL:"});
  EXPECT_FALSE(upload_file("UFS:c.pem", "cert", false).secret_payload);
}

TEST(QuectelTls, NtpCompletesOnItsUrc) {
  const at::Command c = ntp_sync(1, "pool.ntp.org");
  EXPECT_EQ(c.text, "AT+QNTP=1,\"pool.ntp.org\",123,1");
  ASSERT_TRUE(c.completion);
  EXPECT_EQ(c.completion->prefix, "+QNTP:");
  EXPECT_EQ(c.completion->timeout, seconds(125));
}

TEST(QuectelTls, AnswersAreRead) {
  // seeds/001 5.x: +QFUPL: 1758,384a
  const auto upload = parse_qfupl("+QFUPL: 1758,384a");
  ASSERT_TRUE(upload);
  EXPECT_EQ(upload->size, 1758u);
  EXPECT_EQ(upload->checksum, 0x384a);
  EXPECT_FALSE(parse_qfupl("+QFUPL: 1758,xyz"));
  EXPECT_FALSE(parse_qfupl("+QFUPL: 1758,12345"));

  const auto file = parse_qflst("+QFLST: \"UFS:cacert.pem\",1758");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->name, "UFS:cacert.pem");
  EXPECT_EQ(file->size, 1758u);
  EXPECT_EQ(parse_qflst("+QFLST: \"cacert.pem\",10")->name, "cacert.pem");  // firmware without the prefix
  EXPECT_FALSE(parse_qflst("+QFLST: cacert.pem"));

  const auto ntp = parse_qntp("+QNTP: 0,\"2026/12/02,16:04:05+00\"");
  ASSERT_TRUE(ntp);
  EXPECT_EQ(ntp->error, 0);
  EXPECT_EQ(gpp::format_utc(*ntp->time), "2026-12-02 16:04:05 UTC");
  EXPECT_EQ(parse_qntp("+QNTP: 565")->error, 565);
  EXPECT_FALSE(parse_qntp("+QNTP: x"));

  EXPECT_EQ(gpp::format_utc(*parse_qlts("+QLTS: \"2026/12/02,16:04:05+32,0\"")), "2026-12-02 08:04:05 UTC");
  EXPECT_FALSE(parse_qlts("+QLTS: \"\""));  // the network gave no time
}

TEST(GppClock, ReadingsAreUtcAndABootEpochIsNotPlausible) {
  // 27.007 8.15: local time and the zone in quarter hours; seeds/004: +CCLK: "23/09/04,15:17:41+32".
  const auto fibocom = gpp::parse_cclk("+CCLK: \"23/09/04,15:17:41+32\"");
  ASSERT_TRUE(fibocom);
  EXPECT_EQ(gpp::format_utc(*fibocom), "2023-09-04 07:17:41 UTC");
  EXPECT_EQ(gpp::format_utc(*gpp::parse_cclk("+CCLK: \"26/12/02,01:00:00-08\"")), "2026-12-02 03:00:00 UTC");
  EXPECT_EQ(gpp::format_utc(*gpp::parse_cclk("+CCLK: 26/12/02,16:04:05+00")), "2026-12-02 16:04:05 UTC");
  // An EC2x after boot reads the GPS epoch; other firmware 2000-01-01.
  const auto boot = gpp::parse_cclk("+CCLK: \"80/01/06,00:00:10+00\"");
  ASSERT_TRUE(boot);
  EXPECT_EQ(gpp::format_utc(*boot), "1980-01-06 00:00:10 UTC");
  EXPECT_FALSE(gpp::clock_plausible(*boot));
  EXPECT_FALSE(gpp::clock_plausible(*gpp::parse_cclk("+CCLK: \"00/01/01,00:00:00+00\"")));
  EXPECT_TRUE(gpp::clock_plausible(*fibocom + years(2)));
  for (const char* bad : {"+CCLK: \"26/13/02,16:04:05+00\"", "+CCLK: \"26/02/30,16:04:05+00\"", "+CCLK: \"\"",
                          "+CCLK: \"26/12/02 16:04:05\"", "+CCLK: \"26/12/02,25:04:05+00\"", "+CSQ: 1,2"}) {
    EXPECT_FALSE(gpp::parse_cclk(bad)) << bad;
  }
}

}  // namespace
}  // namespace modem::quectel
