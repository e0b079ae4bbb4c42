// The daemon's status, as people and programs see it: a retained JSON document on the status
// topic, a retained "1"/"0" on <status topic>/state (also the daemon's will, like mosquitto's
// bridge notifications), and systemd's one-line STATUS=.
#pragma once

#include <cstdint>
#include <string>

#include "modem/clock.hpp"
#include "modem/session/module_info.hpp"
#include "modem/session/types.hpp"

namespace cellmqttd {

struct BridgeCounters {
  std::uint64_t up = 0;        // messages delivered upstream
  std::uint64_t down = 0;      // messages from upstream published locally
  std::uint64_t dropped = 0;   // spool overflow and local hold overflow
  std::uint64_t refused = 0;   // never sendable up (a topic that could break its AT argument, too long)
                               // or down (a topic the local broker cannot take; a message line that
                               // reads two ways or cannot be framed with certainty; a topic no
                               // broker should deliver)
  std::uint64_t resent = 0;    // sent again after a failed attempt (possible duplicates upstream)
  std::uint64_t unrouted = 0;  // messages no bridge rule matched
};

struct StatusSnapshot {
  modem::session::State state = modem::session::State::kStopped;
  const modem::session::ModuleInfo* info = nullptr;
  std::string upstream;  // host:port
  // Why there is no session at all (no AT port found, the port cannot be opened); empty otherwise.
  std::string no_module_reason;
  std::size_t spool_depth = 0;
  BridgeCounters counters;
  modem::TimePoint now{};
};

std::string status_json(const StatusSnapshot& snapshot);
std::string status_line(const StatusSnapshot& snapshot);

}  // namespace cellmqttd
