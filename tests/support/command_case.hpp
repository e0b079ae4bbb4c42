// One row of a command builder's table test: the command a builder made and what it must be (the
// text on the wire, which response lines belong to it, its timeout). Shared by every dialect's
// and the 3GPP basics' command tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "modem/at/command.hpp"

namespace test_support {

struct CommandCase {
  const char* what;
  modem::at::Command command;
  std::string text;
  std::vector<std::string> prefixes = {};
  bool plain_lines = false;
  modem::Duration timeout = std::chrono::seconds(2);
};

// A one-shot command: no payload, no completing URC, nothing secret in it.
inline void expect_one_shot_command(const CommandCase& c) {
  SCOPED_TRACE(c.what);
  EXPECT_EQ(c.command.text, c.text);
  EXPECT_EQ(c.command.response_prefixes, c.prefixes);
  EXPECT_EQ(c.command.plain_lines, c.plain_lines);
  EXPECT_EQ(c.command.timeout, c.timeout);
  EXPECT_FALSE(c.command.payload.has_value());
  EXPECT_FALSE(c.command.completion.has_value());
  EXPECT_FALSE(c.command.sensitive());
}

}  // namespace test_support
