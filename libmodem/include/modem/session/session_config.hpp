// What the session needs to know from its caller: the cellular data context, the upstream broker
// and the timing of recovery. Kept apart from the session object it configures (DESIGN.md).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "modem/clock.hpp"
#include "modem/quectel/dialect.hpp"
#include "modem/session/backoff.hpp"

namespace modem::session {

struct SessionConfig {
  // cellular
  quectel::PdpSettings pdp;

  // upstream MQTT, through the module's client
  int client_index = 0;
  std::string host;
  int port = 1883;
  std::string client_id;  // "{imei}" and "{iccid}" are replaced by the module's
  std::optional<std::string> username;
  std::optional<std::string> password;
  int keepalive_s = 120;
  bool clean_session = true;
  int protocol_version = 4;  // 4 = MQTT 3.1.1, 3 = MQTT 3.1
  std::optional<quectel::Will> will;
  std::vector<std::pair<std::string, int>> subscriptions;  // filter, QoS
  // Messages from the broker are buffered in the module and read with AT+QMTRECV (recv/mode 1)
  // instead of arriving inside the URC. Both carry the payload length, so both are binary-safe.
  bool buffered_receive = false;
  int packet_timeout_s = 5;  // AT+QMTCFG="timeout"
  int packet_retries = 3;

  // timing of bring-up and recovery
  Duration registration_timeout = std::chrono::seconds(120);  // then the radio is cycled
  Duration boot_timeout = std::chrono::seconds(30);           // for RDY after a reset
  Duration health_interval = std::chrono::seconds(60);        // signal / registration query in Ready
  Duration stable_after = std::chrono::seconds(60);           // Ready this long resets the ladder
  BackoffConfig backoff;
  int attempts_per_rung = 3;   // failed attempts at one rung of the ladder before climbing
  unsigned mute_timeouts = 3;  // consecutive AT timeouts that count as a failed attempt
};

// Everything in `config` that would break an AT command or that the module cannot take, one line
// each, naming the setting ("upstream username contains a double quote"). Empty when it is usable.
// Nothing from the configuration reaches a quoted AT argument without passing this check.
std::vector<std::string> check_session_config(const SessionConfig& config);

}  // namespace modem::session
