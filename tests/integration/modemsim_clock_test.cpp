// modemsim's clock end to end: 1980 after boot (as an EC2x without network time), AT+CCLK= sets
// it, AT+QNTP sets it from the network and fails as the module reports (561: no PDP context, 565:
// the server's name does not resolve), --network-time sets it at registration (NITZ, AT+QLTS),
// and a reboot starts it over.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <optional>
#include <string>

#include "modemsim_terminal.hpp"

namespace {

using modemsim_e2e::kError;
using modemsim_e2e::kOk;

// Seconds since 1970 (UTC) of a time in `text` after `prefix`: "yy/MM/dd,hh:mm:ss±zz" (AT+CCLK)
// or "yyyy/MM/dd,hh:mm:ss+00" (+QNTP, +QLTS).
std::optional<std::time_t> time_after(const std::string& text, const std::string& prefix) {
  const auto at = text.find(prefix);
  if (at == std::string::npos) return std::nullopt;
  std::tm tm{};
  char sign = 0;
  int zone = 0;
  const char* start = text.c_str() + at + prefix.size();
  const bool long_form = start[4] == '/';
  const int fields =
      std::sscanf(start, long_form ? "%4d/%2d/%2d,%2d:%2d:%2d%c%2d" : "%2d/%2d/%2d,%2d:%2d:%2d%c%2d",
                  &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &sign, &zone);
  if (fields != 8) return std::nullopt;
  tm.tm_year = long_form ? tm.tm_year - 1900 : (tm.tm_year >= 80 ? tm.tm_year : tm.tm_year + 100);
  tm.tm_mon -= 1;
  return ::timegm(&tm) - (sign == '-' ? -zone : zone) * 15 * 60;
}

// "Now" as the host knows it; the module's network time may differ by the test's own run time.
bool near_now(std::optional<std::time_t> t) {
  return t && std::abs(static_cast<long>(*t - std::time(nullptr))) <= 10;
}

class ModemsimClock : public modemsim_e2e::ModemsimTerminal {
 protected:
  std::optional<std::time_t> cclk() { return time_after(answer("AT+CCLK?"), "+CCLK: \""); }
  void activate() {
    expect("AT+QICSGP=1,1,\"internet\",\"\",\"\",1", kOk);
    expect("AT+QIACT=1", kOk);
  }
  void reboot() {
    ASSERT_EQ(sim->control("reboot"), "ok");
    term->read_until("+QIND: PB DONE\r\n");
    ASSERT_EQ(term->exchange("ATE0\r", kOk), "ATE0\r" + kOk);
  }
  static constexpr std::time_t kGpsEpoch = 315964800;  // 1980-01-06 00:00:00 UTC
};

TEST_F(ModemsimClock, ReadsTheGpsEpochAfterBootAndAsSetByCclk) {
  const std::string after_boot = answer("AT+CCLK?");
  EXPECT_TRUE(after_boot.starts_with("\r\n+CCLK: \"80/01/06,00:0")) << after_boot;
  EXPECT_TRUE(after_boot.ends_with("+00\"\r\n" + kOk)) << after_boot;
  EXPECT_LT(*cclk() - kGpsEpoch, 60);               // it runs from there
  expect("AT+CCLK=\"26/05/04,10:20:30+08\"", kOk);  // UTC+2
  const auto set = cclk();
  const auto given = time_after("\"26/05/04,10:20:30+08\"", "\"");
  ASSERT_TRUE(set && given);
  EXPECT_GE(*set - *given, 0);
  EXPECT_LE(*set - *given, 2);
  EXPECT_TRUE(answer("AT+CCLK?").find("\"26/05/04,10:20:3") != std::string::npos);
  for (const char* bad : {"AT+CCLK=\"26/02/30,10:20:30+08\"", "AT+CCLK=\"26/05/04 10:20:30+08\"",
                          "AT+CCLK=26/05/04,10:20:30+08", "AT+CCLK=\"26/05/04,10:20:30\""}) {
    expect(bad, kError);
  }
  reboot();
  EXPECT_LT(*cclk() - kGpsEpoch, 60);
}

TEST_F(ModemsimClock, NtpSetsTheClockOverAnActiveContext) {
  expect("AT+QNTP=1,\"pool.ntp.org\"", kOk);
  EXPECT_EQ(term->read_until("+QNTP: 561\r\n"), "\r\n+QNTP: 561\r\n");  // no active context
  activate();
  expect("AT+QNTP=1,\"pool.ntp.org\",123,1", kOk);
  const std::string urc = term->read_until([](const std::string& out) { return out.ends_with("\"\r\n"); });
  EXPECT_TRUE(urc.starts_with("\r\n+QNTP: 0,\"")) << urc;
  EXPECT_TRUE(near_now(time_after(urc, "+QNTP: 0,\""))) << urc;
  EXPECT_TRUE(near_now(cclk()));
  EXPECT_NE(sim->control("stats").find("\"qntp\":1"), std::string::npos);
  expect("AT+QNTP=0,\"pool.ntp.org\"", kError);  // <cid> 1-16
}

TEST_F(ModemsimClock, NtpWithoutSetTimeLeavesTheClock) {
  activate();
  expect("AT+QNTP=1,\"pool.ntp.org\",123,0", kOk);
  term->read_until([](const std::string& out) { return out.ends_with("\"\r\n"); });
  EXPECT_LT(*cclk() - kGpsEpoch, 60);
}

TEST_F(ModemsimClock, NtpFailFaultGives565AndLeavesTheClock) {
  activate();
  ASSERT_EQ(sim->control("ntp-fail on"), "ok");
  expect("AT+QNTP=1,\"pool.ntp.org\"", kOk);
  EXPECT_EQ(term->read_until("+QNTP: 565\r\n"), "\r\n+QNTP: 565\r\n");
  EXPECT_LT(*cclk() - kGpsEpoch, 60);
  EXPECT_NE(sim->control("stats").find("\"qntp\":0"), std::string::npos);
  ASSERT_EQ(sim->control("ntp-fail off"), "ok");
  expect("AT+QNTP=1,\"pool.ntp.org\"", kOk);
  EXPECT_TRUE(term->read_until([](const std::string& out) { return out.ends_with("\"\r\n"); })
                  .starts_with("\r\n+QNTP: 0,\""));
  EXPECT_TRUE(near_now(cclk()));
}

TEST_F(ModemsimClock, WithoutNetworkTimeQltsHasNothing) {
  expect("AT+QLTS=1", "\r\n+QLTS: \"\"\r\n" + kOk);
  expect("AT+QLTS", "\r\n+QLTS: \"\"\r\n" + kOk);
}

TEST_F(ModemsimClock, NetworkTimeSetsTheClockAtRegistrationEveryLife) {
  start({"--network-time"});
  EXPECT_TRUE(near_now(cclk()));
  for (const char* command : {"AT+QLTS=1", "AT+QLTS", "AT+QLTS=2"}) {
    const std::string qlts = answer(command);
    EXPECT_TRUE(qlts.starts_with("\r\n+QLTS: \"") && qlts.ends_with("+00,0\"\r\n" + kOk)) << qlts;
    EXPECT_TRUE(near_now(time_after(qlts, "+QLTS: \""))) << qlts;
  }
  expect("AT+CCLK=\"99/01/01,00:00:00+00\"", kOk);  // the host may still set it
  EXPECT_TRUE(answer("AT+CCLK?").find("\"99/01/01,00:00:0") != std::string::npos);
  reboot();
  EXPECT_TRUE(near_now(cclk()));  // NITZ again after the reboot
}

}  // namespace
