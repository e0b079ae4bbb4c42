// The model table: each row says what its application note says where seeds/001 (EC2x & EG9x &
// EM05) and seeds/002 (EC200x & EC600x & EG912Y) differ, and the ec200u row is what modemsim
// always played.
#include "quectel_models.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "modem/quectel/quectel_variants.hpp"

namespace modemsim {
namespace {

const QuectelModel& row(std::string_view name) {
  const QuectelModel* model = find_quectel_model(name);
  if (model == nullptr) throw std::runtime_error("no row " + std::string(name));
  return *model;
}

bool offers(const QuectelModel& model, std::string_view option) {
  return std::find(model.qmtcfg_options.begin(), model.qmtcfg_options.end(), option) !=
         model.qmtcfg_options.end();
}

// "version" from `+QMTCFG: "version",(0-5),(3,4)`.
std::string option_of(std::string_view test_line) {
  const auto open = test_line.find('"');
  return std::string(test_line.substr(open + 1, test_line.find('"', open + 1) - open - 1));
}

TEST(QuectelModels, Ec200uIsTheFirstRowAndEveryNameIsFoundOnce) {
  ASSERT_FALSE(quectel_models().empty());
  EXPECT_EQ(quectel_models().front().name, "ec200u");  // the default when --model is left out
  std::set<std::string_view> names;
  for (const QuectelModel& model : quectel_models()) {
    EXPECT_TRUE(names.insert(model.name).second) << model.name;
    EXPECT_EQ(find_quectel_model(model.name), &model);
  }
  EXPECT_EQ(find_quectel_model("ec21"), nullptr);
}

TEST(QuectelModels, Ec200uRowIsWhatModemsimAlwaysPlayed) {
  const QuectelModel& m = row("ec200u");
  EXPECT_EQ(m.manufacturer, "Quectel");
  EXPECT_EQ(m.model, "EC200U");
  EXPECT_EQ(m.revision, "EC200UCNAAR02A05M08");
  EXPECT_EQ(m.max_pdp_cid, 16);
  EXPECT_FALSE(m.timeout_all_or_none);
  EXPECT_FALSE(m.credentials_in_pairs);
  EXPECT_TRUE(m.qmtpub);
  EXPECT_FALSE(m.max_qmtstat_code.has_value());
  EXPECT_FALSE(m.data_options_act);
  EXPECT_EQ(m.bad_option, ErrorForm::kCmeError);
  EXPECT_EQ(m.bad_argument, ErrorForm::kError);
}

TEST(QuectelModels, Ec2xRowFollowsSeed001) {
  const QuectelModel& m = row("ec2x");
  EXPECT_EQ(m.model, "EC25");                  // seeds/001 chapter 1: EC2x includes the EC25
  EXPECT_EQ(m.max_pdp_cid, 16);                // AT+QMTCFG <cid>: 1-16
  EXPECT_FALSE(m.timeout_all_or_none);         // [,<pkt_timeout>[,<retry_times>][,<timeout_notice>]]
  EXPECT_FALSE(m.credentials_in_pairs);        // [,"<username>"[,"<password>"]]
  EXPECT_FALSE(m.max_will_topic.has_value());  // no will limits
  EXPECT_FALSE(m.max_will_message.has_value());
  EXPECT_EQ(m.max_qmtstat_code, 7);  // Table 3: 8-255 reserved
  EXPECT_FALSE(m.qmtpub);            // Figure 1 only, no command section
  EXPECT_EQ(m.bad_option, ErrorForm::kCmeError);
  EXPECT_EQ(m.bad_argument, ErrorForm::kCmeError);
  EXPECT_EQ(std::set<std::string_view>(m.qmtcfg_options.begin(), m.qmtcfg_options.end()),
            (std::set<std::string_view>{"version", "pdpcid", "ssl", "keepalive", "session", "timeout", "will",
                                        "recv/mode", "aliauth", "qmtping"}));
}

TEST(QuectelModels, Ec200xRowFollowsSeed002) {
  const QuectelModel& m = row("ec200x");
  EXPECT_EQ(m.model, "EC200S");         // §1.1 lists EC200T, EC200S, EC600S-CN
  EXPECT_EQ(m.max_pdp_cid, 15);         // §3.3.1 <cid>: 1~15
  EXPECT_TRUE(m.timeout_all_or_none);   // §3.3.1 [,<pkt_timeout>,<retry_times>,<timeout_notice>]
  EXPECT_TRUE(m.credentials_in_pairs);  // §3.3.4 [,<username>,<password>]
  EXPECT_EQ(m.max_will_topic, 256u);    // §3.3.1 <willtopic> 1~256
  EXPECT_EQ(m.max_will_message, 256u);  // §3.3.1 <willmessage> 0~256
  EXPECT_EQ(m.max_qmtstat_code, 8);     // §4.1 Table 4: 8 defined, 9~255 reserved
  EXPECT_FALSE(m.qmtpub);               // §3.3.8 AT+QMTPUBEX only
  EXPECT_TRUE(m.data_options_act);
  EXPECT_EQ(m.bad_option, ErrorForm::kError);  // 002 never writes +CME ERROR
  EXPECT_EQ(m.bad_argument, ErrorForm::kError);
  for (const char* option :
       {"willex", "send/mode", "onenet", "hwauth", "hwprodid", "dataformat", "view/mode", "edit/timeout"}) {
    EXPECT_TRUE(offers(m, option)) << option;
  }
}

TEST(QuectelModels, Seed001HasNoOptionSeed002Lacks) {
  for (const std::string_view option : row("ec2x").qmtcfg_options)
    EXPECT_TRUE(offers(row("ec200x"), option)) << option;
}

TEST(QuectelModels, TheTestAnswerListsTheOptionsEachRowAccepts) {
  for (const QuectelModel& m : quectel_models()) {
    std::set<std::string> listed;
    for (const std::string_view line : m.qmtcfg_test) {
      EXPECT_TRUE(line.starts_with("+QMTCFG: \"")) << m.name << ": " << line;
      listed.insert(option_of(line));
      EXPECT_TRUE(offers(m, option_of(line))) << m.name << ": " << line;
    }
    // ec200u also accepts seeds/002 options it never listed (it always did); the others list all.
    if (m.name != "ec200u") {
      EXPECT_EQ(listed.size(), m.qmtcfg_options.size()) << m.name;
    }
    const std::string pdpcid = "+QMTCFG: \"pdpcid\",(0-5),(1-" + std::to_string(m.max_pdp_cid) + ")";
    EXPECT_NE(std::find(m.qmtcfg_test.begin(), m.qmtcfg_test.end(), pdpcid), m.qmtcfg_test.end()) << m.name;
  }
}

// What ATI reports must lead cellmqttd's "auto" model to the dialect written from the same document.
std::string_view libmodem_variant(std::string_view model_name) {
  const auto* v = modem::quectel::variant_for_model(row(model_name).model);
  return v == nullptr ? std::string_view() : v->name;
}

TEST(QuectelModels, LibmodemIdentifiesEveryModelAsTheVariantOfItsDocument) {
  EXPECT_EQ(libmodem_variant("ec200u"), "quectel-ec200u");
  EXPECT_EQ(libmodem_variant("ec2x"), "quectel-ec2x");
  // "EC200S" starts with the EC2x row's "EC20" too: the longest name must win.
  EXPECT_EQ(libmodem_variant("ec200x"), "quectel-ec200x");
}

}  // namespace
}  // namespace modemsim
