#include "modem/at/result.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace modem::at {
namespace {

struct FinalCase {
  std::string line;
  std::optional<ResultCode> code;
  int error_code;
};

void PrintTo(const FinalCase& c, std::ostream* os) {
  *os << '"' << c.line << '"';
}

class ClassifyFinal : public ::testing::TestWithParam<FinalCase> {};

TEST_P(ClassifyFinal, RecognisesV250And27007Finals) {
  const auto& c = GetParam();
  const auto final = classify_final(c.line);
  ASSERT_EQ(final.has_value(), c.code.has_value()) << c.line;
  if (final) {
    EXPECT_EQ(final->code, *c.code) << c.line;
    EXPECT_EQ(final->error_code, c.error_code) << c.line;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Lines, ClassifyFinal,
    ::testing::Values(FinalCase{"OK", ResultCode::kOk, 0}, FinalCase{"ERROR", ResultCode::kError, 0},
                      FinalCase{"NO CARRIER", ResultCode::kError, 0},
                      // field-notes.md 2.8
                      FinalCase{"+CME ERROR: 50", ResultCode::kCmeError, 50},
                      FinalCase{"+CME ERROR: 504", ResultCode::kCmeError, 504},
                      FinalCase{"+CME ERROR: SIM not inserted", ResultCode::kCmeError, -1},
                      FinalCase{"+CMS ERROR: 500", ResultCode::kCmsError, 500},
                      // Not finals: a URC that mentions ERROR, a payload line, a prefix of OK.
                      FinalCase{"+QIURC: \"ERROR\"", std::nullopt, 0}, FinalCase{"OKAY", std::nullopt, 0},
                      FinalCase{"OK ", std::nullopt, 0}, FinalCase{"+QMTSTAT: 0,1", std::nullopt, 0}),
    [](const auto& info) {
      std::string name;
      for (char c : info.param.line)
        name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name + "_" + std::to_string(info.index);
    });

TEST(Describe, SaysWhatHappened) {
  Result r;
  r.code = ResultCode::kCmeError;
  r.final_line = "+CME ERROR: 50";
  EXPECT_EQ(describe(r), "+CME ERROR: 50");
  r = {};
  r.code = ResultCode::kTimeout;
  EXPECT_EQ(describe(r), "no answer (timeout)");
  r.accepted = true;
  EXPECT_EQ(describe(r), "accepted, but the completing result never came");
}

}  // namespace
}  // namespace modem::at
