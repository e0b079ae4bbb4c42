// Which dialect drives the module ([modem] model, dialects.hpp): "auto" decides from what the
// module says in ATI (AT+CGMI/AT+CGMM when ATI is not enough) and from the USB discovery hint,
// like gpsd's driver table; a configured model is never second-guessed; an unknown module is
// logged with what it said and how to force a model.
#include <gtest/gtest.h>

#include <string>

#include "modem/session/mqtt_session.hpp"
#include "support/log_capture.hpp"
#include "support/session_harness.hpp"

namespace modem::session {
namespace {

using test_support::ok_reply;
using test_support::SessionHarness;

std::size_t count_containing(const std::vector<std::string>& commands, const std::string& text) {
  std::size_t n = 0;
  for (const auto& c : commands)
    n += c.find(text) != std::string::npos ? 1 : 0;
  return n;
}

TEST(SessionDialectChoice, AnEc25IsDrivenAsTheEc2xFamily) {
  SessionHarness h;
  h.config.model = "auto";
  h.module.on("ATI", ok_reply("Quectel\r\nEC25\r\nRevision: EC25EFAR06A06M4G"));
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  EXPECT_EQ(h.session->dialect().name(), "quectel-ec2x");
  EXPECT_EQ(h.session->info().family, "Quectel EC2x/EG9x/EM05");
  // seeds/001 has no "dataformat" or "view/mode": an EC25 is never sent them.
  EXPECT_EQ(count_containing(h.module.commands(), "\"dataformat\""), 0u);
  EXPECT_EQ(h.module.count("AT+CGMI"), 0u);  // ATI was enough
}

TEST(SessionDialectChoice, AnEc200sIsDrivenAsTheEc200xFamily) {
  SessionHarness h;
  h.config.model = "auto";
  h.module.on("ATI", ok_reply("Quectel\r\nEC200S\r\nRevision: EC200SCNAAR03A05M16"));
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  EXPECT_EQ(h.session->dialect().name(), "quectel-ec200x");
  // seeds/002 §3.3.1: text both ways and no payload echo, set because the defaults are unreadable.
  EXPECT_EQ(count_containing(h.module.commands(), "AT+QMTCFG=\"dataformat\",0,0,0"), 1u);
  EXPECT_EQ(count_containing(h.module.commands(), "AT+QMTCFG=\"view/mode\",0,0"), 1u);
}

TEST(SessionDialectChoice, WhenAtiIsNotEnoughTheStandardIdentityCommandsDecide) {
  SessionHarness h;
  h.config.model = "auto";
  h.module.on("ATI", ok_reply("Manufacturer: QUECTEL INCORPORATED"));
  h.module.on("AT+CGMI", ok_reply("Quectel"));
  h.module.on("AT+CGMM", ok_reply("+CGMM: EG25"));
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  EXPECT_EQ(h.session->dialect().name(), "quectel-ec2x");
  EXPECT_EQ(h.session->info().model, "EG25");
}

TEST(SessionDialectChoice, TheUsbIdDecidesWhenTheModuleSaysNothingUseful) {
  SessionHarness h;
  h.config.model = "auto";
  h.config.model_hint = "Quectel EC25";
  h.module.on("ATI", ok_reply("OEM modem"));
  h.module.on("AT+CGMI", "\r\nERROR\r\n");
  h.module.on("AT+CGMM", "\r\nERROR\r\n");
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  EXPECT_EQ(h.session->dialect().name(), "quectel-ec2x");
}

TEST(SessionDialectChoice, AnUnknownModuleIsLoggedOnceWithWhatItSaidAndHowToForceAModel) {
  test_support::LogCapture log("session", spdlog::level::info);
  SessionHarness h;
  h.config.model = "auto";
  h.module.on("ATI", ok_reply("Acme\r\nRM500X\r\nRevision: R1"));
  h.module.on("AT+CGMI", ok_reply("Acme"));
  h.module.on("AT+CGMM", ok_reply("RM500X"));
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());  // it answers as an EC200U does, so it works as one
  EXPECT_EQ(h.session->dialect().name(), "quectel-ec200u");
  EXPECT_TRUE(log.contains("the module says it is \"Acme RM500X\" (revision R1)"));
  EXPECT_TRUE(log.contains("set [modem] model to one of: quectel-ec200u, quectel-ec2x, quectel-ec200x"));

  // A restart brings it up again without saying so again.
  h.module.say("\r\nRDY\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.module.count("ATI") == 2 && h.session->ready(); }));
  std::size_t said = 0;
  for (const auto& line : log.lines())
    said += line.find("which this release does not know") != std::string::npos ? 1 : 0;
  EXPECT_EQ(said, 1u);
}

TEST(SessionDialectChoice, AConfiguredModelIsNeverSecondGuessed) {
  SessionHarness h;
  h.config.model = "quectel-ec200x";
  // The module says EC200U: the operator said otherwise and knows their hardware.
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  EXPECT_EQ(h.session->dialect().name(), "quectel-ec200x");
  EXPECT_EQ(h.module.count("AT+CGMI"), 0u);
}

TEST(SessionDialectChoice, TheOldModelNameStillMeansTheEc200u) {
  SessionHarness h;
  h.config.model = "ec200u";
  h.module.on("ATI", ok_reply("Quectel\r\nEC25\r\nRevision: EC25EFAR06A06M4G"));
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  EXPECT_EQ(h.session->dialect().name(), "quectel-ec200u");
}

}  // namespace
}  // namespace modem::session
