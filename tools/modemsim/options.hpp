// modemsim's command line.
#pragma once

#include <string>

#include "modem/outcome.hpp"
#include "sim_module.hpp"

namespace modemsim {

struct ParsedOptions {
  SimOptions sim;
  bool help = false;
};

modem::Outcome<ParsedOptions> parse_options(int argc, const char* const* argv);
extern const char* const kUsage;

}  // namespace modemsim
