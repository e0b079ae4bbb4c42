// The V.250 and 3GPP TS 27.007 basics every family shares (modem/gpp): the exact command text,
// response prefixes and timeouts, and the parsers against tables of real lines (field-notes.md).
#include "modem/gpp/gpp.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "support/command_case.hpp"

namespace modem::gpp {
namespace {

using std::chrono::seconds;

using test_support::CommandCase;

TEST(GppCommands, OneShotCommands) {
  const std::vector<CommandCase> cases = {
      {"probe", probe(), "AT"},
      {"echo_off", echo_off(), "ATE0"},
      {"numeric_errors", numeric_errors(), "AT+CMEE=1"},
      // field-notes.md 1.6 and the channel tests: ATI, CGMM, CGMR, CGSN and CIMI answer bare lines.
      {"identify", identify(), "ATI", {}, true},
      {"manufacturer", manufacturer(), "AT+CGMI", {}, true},
      {"model", model(), "AT+CGMM", {}, true},
      {"revision", revision(), "AT+CGMR", {}, true},
      {"imei", imei(), "AT+CGSN", {}, true},
      {"imsi", imsi(), "AT+CIMI", {}, true},
      {"sim_status", sim_status(), "AT+CPIN?", {"+CPIN:"}, false, seconds(5)},
      {"creg urcs", enable_registration_urcs(Registration::kCs), "AT+CREG=2"},
      {"cgreg urcs", enable_registration_urcs(Registration::kGprs), "AT+CGREG=2"},
      {"cereg urcs", enable_registration_urcs(Registration::kEps), "AT+CEREG=2"},
      {"creg?", query_registration(Registration::kCs), "AT+CREG?", {"+CREG:"}},
      {"cgreg?", query_registration(Registration::kGprs), "AT+CGREG?", {"+CGREG:"}},
      {"cereg?", query_registration(Registration::kEps), "AT+CEREG?", {"+CEREG:"}},
      {"csq", signal_quality(), "AT+CSQ", {"+CSQ:"}},
      {"cops?", operator_name(), "AT+COPS?", {"+COPS:"}, false, seconds(5)},
      {"cfun 0", set_functionality(0), "AT+CFUN=0", {}, false, seconds(15)},
      {"cfun 1", set_functionality(1), "AT+CFUN=1", {}, false, seconds(15)},  // field-notes.md 1.1
      {"reset", reset_module(), "AT+CFUN=1,1", {}, false, seconds(15)},       // field-notes.md 1.6
      {"manufacturer", manufacturer(), "AT+CGMI", {}, true},
  };
  for (const CommandCase& c : cases)
    test_support::expect_one_shot_command(c);
}

TEST(GppParsers, RegistrationUrcAndReadForms) {
  struct Case {
    std::string line;
    bool urc;  // parse_registration_urc, else parse_registration_read
    std::optional<RegistrationStatus> expected;
  };
  const auto eps = Registration::kEps;
  const std::vector<Case> cases = {
      {"+CEREG: 5", true, RegistrationStatus{eps, 5, std::nullopt}},
      {"+CEREG: 2", true, RegistrationStatus{eps, 2, std::nullopt}},
      {"+CEREG: 1,\"1A2B\",\"01234567\",7", true, RegistrationStatus{eps, 1, 7}},
      {"+CEREG: 1, \"1A2B\", \"01234567\", 7", true, RegistrationStatus{eps, 1, 7}},
      {"+CEREG: 1,\"1A2B\",\"01234567\"", true, RegistrationStatus{eps, 1, std::nullopt}},
      {"+CEREG: 1,,,7", true, RegistrationStatus{eps, 1, 7}},
      {"+CEREG: 1,\"1A2B\",\"01234567\",7,0,15", true, RegistrationStatus{eps, 1, 7}},  // n=4: cause fields
      {"+CREG: 1,\"D509\",\"80D413D\",7", true, RegistrationStatus{Registration::kCs, 1, 7}},
      {"+CGREG: 5,\"1A2B\",\"0123\",7,\"01\"", true, RegistrationStatus{Registration::kGprs, 5, 7}},
      {"+CEREG: 0,5", true, std::nullopt},  // a read answer (field-notes.md 1.1), not a URC
      {"+CEREG: 1,\"1A2B", true, std::nullopt},
      {"+CEREG: \"1\"", true, std::nullopt},
      {"+CEREG: 1,1A2B,01234567,7", true, std::nullopt},
      {"+CEREG: 1,\"1A2B\",\"01234567\",x", true, std::nullopt},
      {"+CEREG:", true, std::nullopt},
      {"+CEREGX: 1", true, std::nullopt},
      {"+CEREG: 0,5", false, RegistrationStatus{eps, 5, std::nullopt}},               // field-notes.md 1.1
      {"+CREG: 0,2", false, RegistrationStatus{Registration::kCs, 2, std::nullopt}},  // field-notes.md 1.4
      {"+CEREG: 2,1,\"1A2B\",\"01234567\",7", false, RegistrationStatus{eps, 1, 7}},
      {"+CEREG: 2,1,\"1A2B\",\"01234567\"", false, RegistrationStatus{eps, 1, std::nullopt}},
      {"+CEREG: 5", false, std::nullopt},  // a URC, not a read answer
      {"+CEREG: 6,1", false, std::nullopt},
      {"+CEREG: 2,1,\"1A2B\"", false, std::nullopt},
      {"+CEREG: 2,\"1A2B\",\"01234567\",7", false, std::nullopt},
  };
  for (const Case& c : cases) {
    const auto r = c.urc ? parse_registration_urc(c.line) : parse_registration_read(c.line);
    ASSERT_EQ(r.has_value(), c.expected.has_value()) << c.line;
    if (r) {
      EXPECT_EQ(r->kind, c.expected->kind) << c.line;
      EXPECT_EQ(r->stat, c.expected->stat) << c.line;
      EXPECT_EQ(r->access_technology, c.expected->access_technology) << c.line;
    }
  }
  EXPECT_STREQ(prefix(Registration::kCs), "+CREG:");
  EXPECT_STREQ(prefix(Registration::kGprs), "+CGREG:");
  EXPECT_STREQ(prefix(Registration::kEps), "+CEREG:");
  for (int stat = 0; stat <= 11; ++stat)
    EXPECT_EQ(is_registered(stat), stat == 1 || stat == 5) << stat;
}

TEST(GppParsers, SimStatus) {
  EXPECT_EQ(parse_sim_status("+CPIN: READY"), SimState::kReady);  // field-notes.md 1.1, 1.4
  EXPECT_EQ(parse_sim_status("+CPIN:READY"), SimState::kReady);
  EXPECT_EQ(parse_sim_status("+CPIN: READY "), SimState::kReady);
  EXPECT_EQ(parse_sim_status("+CPIN: SIM PIN"), SimState::kPinRequired);
  EXPECT_EQ(parse_sim_status("+CPIN: SIM PUK"), SimState::kPukRequired);
  EXPECT_EQ(parse_sim_status("+CPIN: NOT INSERTED"), SimState::kNotInserted);
  EXPECT_EQ(parse_sim_status("+CPIN: SIM PIN2"), SimState::kOther);
  EXPECT_EQ(parse_sim_status("+CPIN: PH-SIM PIN"), SimState::kOther);
  EXPECT_EQ(parse_sim_status("+CPIN: NOT READY"), SimState::kOther);
  EXPECT_EQ(parse_sim_status("+CPIN: "), SimState::kOther);
  EXPECT_EQ(parse_sim_status("READY"), SimState::kOther);
  EXPECT_EQ(parse_sim_status(""), SimState::kOther);
  EXPECT_TRUE(cme_means_sim_missing(10));
  EXPECT_TRUE(cme_means_sim_missing(13));
  EXPECT_FALSE(cme_means_sim_missing(50));  // field-notes.md 2.8
  EXPECT_FALSE(cme_means_sim_missing(4));
}

TEST(GppParsers, SignalQuality) {
  EXPECT_EQ(parse_csq_dbm("+CSQ: 28,0"), -57);  // field-notes.md 1.1
  EXPECT_EQ(parse_csq_dbm("+CSQ: 20,99"), -73);
  EXPECT_EQ(parse_csq_dbm("+CSQ: 0,0"), -113);
  EXPECT_EQ(parse_csq_dbm("+CSQ: 31,0"), -51);
  EXPECT_EQ(parse_csq_dbm("+CSQ: 100,99"), -116);
  EXPECT_EQ(parse_csq_dbm("+CSQ: 191,99"), -25);
  EXPECT_EQ(parse_csq_dbm("+CSQ: 99,99"), std::nullopt);  // unknown
  EXPECT_EQ(parse_csq_dbm("+CSQ: 32,0"), std::nullopt);
  EXPECT_EQ(parse_csq_dbm("+CSQ: -1,0"), std::nullopt);
  EXPECT_EQ(parse_csq_dbm("+CSQ: 28"), std::nullopt);
  EXPECT_EQ(parse_csq_dbm("+CSQ: ,0"), std::nullopt);
  EXPECT_EQ(parse_csq_dbm("+CSQ: 28,0,1"), std::nullopt);
  EXPECT_EQ(parse_csq_dbm("+QCSQ: \"eMTC\",-56,-78,210,-9"), std::nullopt);  // field-notes.md 1.1
}

TEST(GppParsers, Operator) {
  const auto cops = parse_cops("+COPS: 0,0,\"SGP-M1\",2");  // field-notes.md 1.4
  ASSERT_TRUE(cops.has_value());
  EXPECT_EQ(cops->name, "SGP-M1");
  EXPECT_EQ(cops->access_technology, 2);
  const auto numeric = parse_cops("+COPS: 0,2,\"46000\"");
  ASSERT_TRUE(numeric.has_value());
  EXPECT_EQ(numeric->name, "46000");
  EXPECT_EQ(numeric->access_technology, std::nullopt);
  EXPECT_EQ(parse_cops("+COPS: 0"), std::nullopt);  // not registered
  EXPECT_EQ(parse_cops("+COPS: 0,0,SGP-M1,2"), std::nullopt);
  EXPECT_EQ(parse_cops("+COPS: 0,0,\"SGP-M1\",x"), std::nullopt);
  EXPECT_EQ(parse_cops("+COPS: 0,0,\"SGP-M1"), std::nullopt);
}

TEST(GppParsers, RegistrationInWords) {
  EXPECT_STREQ(describe_registration(0), "not registered, not searching");
  EXPECT_STREQ(describe_registration(1), "registered, home network");
  EXPECT_STREQ(describe_registration(2), "not registered, searching");
  EXPECT_STREQ(describe_registration(3), "registration denied");
  EXPECT_STREQ(describe_registration(4), "unknown (e.g. out of coverage)");
  EXPECT_STREQ(describe_registration(5), "registered, roaming");
  EXPECT_STREQ(describe_registration(99), "registration status not handled");
}

TEST(GppParsers, IdentityLinesBareOrWithTheirPrefix) {
  EXPECT_EQ(parse_identity_line("EC25"), "EC25");           // 27.007 §5.2: bare
  EXPECT_EQ(parse_identity_line("+CGMM: MC665"), "MC665");  // firmware that prefixes it
  EXPECT_EQ(parse_identity_line("+CGMI:Fibocom "), "Fibocom");
  EXPECT_EQ(parse_identity_line("+CGMR: 16000.1000.00.01"), "16000.1000.00.01");
  EXPECT_EQ(parse_identity_line(""), "");
}

TEST(GppParsers, IdentityFromAti) {
  // field-notes.md 1.6: ATI answers "Quectel", "BG96", "Revision: BG96MAR02A07M1G".
  const Identity id = parse_identity({"Quectel", "BG96", "Revision: BG96MAR02A07M1G"});
  EXPECT_EQ(id.manufacturer, "Quectel");
  EXPECT_EQ(id.model, "BG96");
  EXPECT_EQ(id.revision, "BG96MAR02A07M1G");
  const Identity partial = parse_identity({"Quectel"});
  EXPECT_EQ(partial.manufacturer, "Quectel");
  EXPECT_EQ(partial.model, "");
  EXPECT_EQ(parse_identity({}).manufacturer, "");
}

}  // namespace
}  // namespace modem::gpp
