#include <gtest/gtest.h>

#include "modem/session/dialects.hpp"

namespace modem::session {
namespace {

SessionConfig usable() {
  SessionConfig c;
  c.pdp.apn = "internet";
  c.host = "broker.example.com";
  c.client_id = "gw-{imei}";
  c.subscriptions = {{"cmd/#", 1}};
  return c;
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems) {
    if (p.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(SessionConfigCheck, AUsableConfigHasNoProblems) {
  EXPECT_TRUE(check_session_config(usable()).empty());
}

TEST(SessionConfigCheck, EveryQuotedValueIsCheckedAndNamed) {
  auto c = usable();
  c.pdp.apn = "inter\"net";
  c.pdp.password = "pw\r\nAT+CFUN=0";
  c.host = "";
  c.client_id = "id\"";
  c.username = "us\ner";
  c.password = std::string("p\0w", 3);
  c.will = Will{"dev/+/state", "off\"line", 3, false};
  c.subscriptions = {{"cmd/#/more", 1}, {"ok/+", 5}};
  c.keepalive_s = 4000;
  c.protocol_version = 5;
  const auto problems = check_session_config(c);
  for (const char* setting :
       {"APN ", "APN password", "upstream host", "upstream client_id", "upstream username",
        "upstream password", "will topic", "will payload", "will QoS", "subscription \"cmd/#/more\"",
        "subscription QoS", "keepalive", "protocol version"}) {
    EXPECT_TRUE(mentions(problems, setting)) << setting;
  }
}

TEST(SessionConfigCheck, EmptyOptionalValuesAreFine) {
  auto c = usable();
  c.pdp.apn = "";
  c.password = "";
  c.will = Will{"dev/state", "", 1, true};
  EXPECT_TRUE(check_session_config(c).empty());
}

}  // namespace
}  // namespace modem::session
