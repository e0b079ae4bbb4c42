#include "modem/at/urc_registry.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace modem::at {
namespace {

TEST(UrcRegistry, LongestPrefixWins) {
  UrcRegistry registry;
  std::vector<std::string> general, pdp;
  registry.add("+QIURC:", [&](std::string_view l) { general.emplace_back(l); });
  registry.add("+QIURC: \"pdpdeact\"", [&](std::string_view l) { pdp.emplace_back(l); });
  EXPECT_TRUE(registry.dispatch("+QIURC: \"pdpdeact\",1"));
  EXPECT_TRUE(registry.dispatch("+QIURC: \"recv\",0"));
  EXPECT_EQ(pdp, std::vector<std::string>{"+QIURC: \"pdpdeact\",1"});
  EXPECT_EQ(general, std::vector<std::string>{"+QIURC: \"recv\",0"});
}

TEST(UrcRegistry, UnknownLineIsNotClaimedAndRemovedHandlerStopsMatching) {
  UrcRegistry registry;
  int calls = 0;
  const auto id = registry.add("RDY", [&](std::string_view) { ++calls; });
  EXPECT_FALSE(registry.dispatch("+CSQ: 1,2"));
  EXPECT_TRUE(registry.matches("RDY"));
  registry.remove(id);
  EXPECT_FALSE(registry.dispatch("RDY"));
  EXPECT_EQ(calls, 0);
}

TEST(UrcRegistry, HandlerMayRegisterAnotherWhileDispatching) {
  UrcRegistry registry;
  int second = 0;
  registry.add("A", [&](std::string_view) { registry.add("B", [&](std::string_view) { ++second; }); });
  EXPECT_TRUE(registry.dispatch("A1"));
  EXPECT_TRUE(registry.dispatch("B1"));
  EXPECT_EQ(second, 1);
}

}  // namespace
}  // namespace modem::at
