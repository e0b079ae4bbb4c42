// modemsim's command line: --model names a row of the model table, ec200u when it is left out.
#include "options.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "quectel_models.hpp"

namespace modemsim {
namespace {

modem::Outcome<ParsedOptions> parse(std::vector<std::string> extra) {
  std::vector<std::string> args = {"modemsim", "--link", "/tmp/modem", "--broker", "127.0.0.1:1883"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<const char*> argv;
  for (const auto& a : args)
    argv.push_back(a.c_str());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

TEST(ModemsimOptions, ModelIsEc200uWhenLeftOut) {
  const auto parsed = parse({});
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed.value().sim.model, "ec200u");
}

TEST(ModemsimOptions, EveryModelOfTheTableIsAccepted) {
  for (const QuectelModel& model : quectel_models()) {
    const auto parsed = parse({"--model", std::string(model.name)});
    ASSERT_TRUE(parsed) << model.name << ": " << parsed.error().message;
    EXPECT_EQ(parsed.value().sim.model, model.name);
  }
}

TEST(ModemsimOptions, UnknownModelIsRefusedNamingEveryChoice) {
  for (const char* wrong : {"ec21", "EC2X", "", "quectel-ec2x"}) {
    const auto parsed = parse({"--model", wrong});
    ASSERT_FALSE(parsed) << wrong;
    EXPECT_EQ(parsed.error().message, "--model needs ec200u, ec2x or ec200x") << wrong;
  }
}

TEST(ModemsimOptions, ModelWithoutAValueIsRefused) {
  const auto parsed = parse({"--model"});
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "--model needs ec200u, ec2x or ec200x");
}

TEST(ModemsimOptions, NetworkTimeIsOffUnlessAskedFor) {
  EXPECT_FALSE(parse({}).value().sim.network_time);
  const auto parsed = parse({"--network-time"});
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed.value().sim.network_time);
  EXPECT_NE(std::string(kUsage).find("[--network-time]"), std::string::npos);
}

TEST(ModemsimOptions, UsageNamesEveryModel) {
  const std::string usage = kUsage;
  EXPECT_NE(usage.find("[--model ec200u|ec2x|ec200x]"), std::string::npos) << usage;
  for (const QuectelModel& model : quectel_models()) {
    EXPECT_NE(usage.find("  " + std::string(model.name) + "  "), std::string::npos) << model.name;
  }
}

}  // namespace
}  // namespace modemsim
