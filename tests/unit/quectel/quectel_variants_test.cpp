// The Quectel variant table (quectel_variants.cpp): each row as its document gives it, and the
// dialect built on each row sending what that document says. Citations: seeds/001 is the
// EC2x/EG9x/EM05 MQTT AN, seeds/002 the EC200x/EC600x/EG912Y one (the EC200U is of its family).
#include "modem/quectel/quectel_variants.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "modem/quectel/quectel_at.hpp"
#include "modem/quectel/quectel_dialect.hpp"
#include "modem/session/dialects.hpp"

namespace modem::quectel {
namespace {

const Variant& row(std::string_view name) {
  const Variant* v = variant_named(name);
  EXPECT_NE(v, nullptr) << name;
  return *v;
}

struct ModelCase {
  const char* ati_model;  // ATI's second line
  const char* variant;    // nullptr: none of these families
};

std::string test_name(const ModelCase& c) {
  std::string name = *c.ati_model == '\0' ? "empty" : c.ati_model;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

class VariantForModel : public ::testing::TestWithParam<ModelCase> {};

TEST_P(VariantForModel, NamesTheFamilyWhoseDocumentCoversIt) {
  const Variant* v = variant_for_model(GetParam().ati_model);
  if (GetParam().variant == nullptr) {
    EXPECT_EQ(v, nullptr);
  } else {
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->name, GetParam().variant);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryModel, VariantForModel,
                         ::testing::Values(
                             // seeds/001's title: EC2x, EG9x, EM05.
                             ModelCase{"EC25", "quectel-ec2x"}, ModelCase{"EC21", "quectel-ec2x"},
                             ModelCase{"EC20", "quectel-ec2x"}, ModelCase{"EG25", "quectel-ec2x"},
                             ModelCase{"EG21", "quectel-ec2x"}, ModelCase{"EG91", "quectel-ec2x"},
                             ModelCase{"EG95", "quectel-ec2x"}, ModelCase{"EM05", "quectel-ec2x"},
                             // seeds/002's title: EC200x, EC600x, EG912Y. "EC200S" starts with "EC20" too:
                             // the longest name wins, or every EC200x would be driven as an EC2x.
                             ModelCase{"EC200S", "quectel-ec200x"}, ModelCase{"EC200T", "quectel-ec200x"},
                             ModelCase{"EC200A", "quectel-ec200x"}, ModelCase{"EC200N", "quectel-ec200x"},
                             ModelCase{"EC200G", "quectel-ec200x"}, ModelCase{"EC600S", "quectel-ec200x"},
                             ModelCase{"EC600N", "quectel-ec200x"},
                             ModelCase{"EC600M", "quectel-ec200x"},  // field-notes.md 2.5
                             ModelCase{"EC600E", "quectel-ec200x"}, ModelCase{"EG912Y", "quectel-ec200x"},
                             // The EC200U and EC600U keep today's rows (seeds/000, the field guide).
                             ModelCase{"EC200U", "quectel-ec200u"}, ModelCase{"EC600U", "quectel-ec200u"},
                             // Modules of other families are not guessed.
                             ModelCase{"BG96", nullptr}, ModelCase{"BG770A-GL", nullptr},
                             ModelCase{"", nullptr}),
                         [](const auto& info) { return test_name(info.param); });

TEST(QuectelVariants, ContextIdsAreTheDocumentsRanges) {
  EXPECT_EQ(row("quectel-ec2x").max_context_id, 16);    // seeds/001 AT+QMTCFG="pdpcid": (1-16)
  EXPECT_EQ(row("quectel-ec200x").max_context_id, 15);  // seeds/002 §3.3.1 <cid> 1~15
  EXPECT_EQ(row("quectel-ec200u").max_context_id, 15);  // of the seeds/002 family
}

TEST(QuectelVariants, OnePublishCarriesAtMost1500BytesOnEveryFamily) {
  // seeds/001 AT+QMTPUBEX note 2; seeds/002 §3.3.8.
  for (const Variant& v : variants())
    EXPECT_EQ(v.max_payload, 1500u) << v.name;
}

TEST(QuectelVariants, OnlySeeds002GivesTheWillLimits) {
  // seeds/002 §3.3.1: <willtopic> 1~256 bytes, <willmessage> 0~256 bytes; seeds/001 gives none.
  EXPECT_EQ(row("quectel-ec200x").max_will_topic, 256u);
  EXPECT_EQ(row("quectel-ec200x").max_will_message, 256u);
  // Without a limit of its own, the EC2x's will is held to what any topic cellmqttd sends is.
  EXPECT_EQ(row("quectel-ec2x").max_will_topic, kMaxTopic);
}

TEST(QuectelVariants, QmtstatEightIsAClientCloseOnTheSeeds002FamilyAndReservedOnTheEc2x) {
  // seeds/002 §4.1 row 8 (client-initiated disconnect); seeds/001 Table: "8-255 reserved".
  const std::string ec200x = describe_qmtstat(row("quectel-ec200x"), 8);
  const std::string ec2x = describe_qmtstat(row("quectel-ec2x"), 8);
  EXPECT_NE(ec200x.find("the client closed the connection"), std::string::npos) << ec200x;
  EXPECT_EQ(ec2x.find("the client closed the connection"), std::string::npos) << ec2x;
  // The codes both documents define mean the same on both.
  for (int code = 1; code <= 7; ++code)
    EXPECT_STREQ(describe_qmtstat(row("quectel-ec200x"), code), describe_qmtstat(row("quectel-ec2x"), code));
}

// The commands a variant's dialect sends, as one string per command.
std::vector<std::string> texts(const session::Script& script) {
  std::vector<std::string> out;
  for (const auto& step : script)
    out.push_back(step.command.text);
  return out;
}

bool sends(const session::Script& script, std::string_view prefix) {
  const auto all = texts(script);
  return std::any_of(all.begin(), all.end(), [&](const auto& t) { return t.starts_with(prefix); });
}

session::SessionConfig usable() {
  session::SessionConfig c;
  c.host = "broker.example.com";
  c.client_id = "dev1";
  c.pdp.apn = "internet";
  return c;
}

TEST(QuectelVariants, OnlyTheEc200xFamilyIsToldTextDataAndNoPayloadEcho) {
  // seeds/002 §3.3.1 "dataformat" and "view/mode"; seeds/001 has neither, so an EC25 would answer
  // ERROR and the bring-up would fail.
  const auto config = usable();
  const auto ec200x = QuectelDialect(row("quectel-ec200x")).configure(config);
  EXPECT_TRUE(sends(ec200x, "AT+QMTCFG=\"dataformat\",0,0,0"));
  EXPECT_TRUE(sends(ec200x, "AT+QMTCFG=\"view/mode\",0,0"));
  for (const char* name : {"quectel-ec2x", "quectel-ec200u"}) {
    const auto script = QuectelDialect(row(name)).configure(config);
    EXPECT_FALSE(sends(script, "AT+QMTCFG=\"dataformat\"")) << name;
    EXPECT_FALSE(sends(script, "AT+QMTCFG=\"view/mode\"")) << name;
  }
}

TEST(QuectelVariants, AUserNameAloneGoesOutWithAnEmptyPasswordWhereTheDocumentPairsThem) {
  // seeds/002 §3.3.4: [,<username>,<password>] together; seeds/001: [,"<username>"[,"<password>"]].
  auto config = usable();
  config.username = "meter";
  const auto ec200x = texts(QuectelDialect(row("quectel-ec200x")).connect(config, "dev1"));
  const auto ec2x = texts(QuectelDialect(row("quectel-ec2x")).connect(config, "dev1"));
  ASSERT_EQ(ec200x.size(), 1u);
  ASSERT_EQ(ec2x.size(), 1u);
  EXPECT_EQ(ec200x[0], "AT+QMTCONN=0,\"dev1\",\"meter\",\"\"");
  EXPECT_EQ(ec2x[0], "AT+QMTCONN=0,\"dev1\",\"meter\"");
}

TEST(QuectelVariants, AContextIdOutsideTheFamilysRangeIsAConfigurationError) {
  auto config = usable();
  config.pdp.context_id = 16;
  config.model = "quectel-ec2x";
  EXPECT_TRUE(session::check_session_config(config).empty());
  config.model = "quectel-ec200x";
  const auto problems = session::check_session_config(config);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "PDP context id must be 1 to 15, not 16");
  // "auto" must work whatever is plugged in: the strictest family decides.
  config.model = "auto";
  EXPECT_EQ(session::check_session_config(config).size(), 1u);
}

}  // namespace
}  // namespace modem::quectel
