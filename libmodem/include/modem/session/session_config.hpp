// What the session needs to know from its caller: which module, the cellular data context, the
// upstream broker and the timing of recovery. Kept apart from the session object it configures
// (DESIGN.md), and free of any family's AT syntax: the dialect turns it into commands.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "modem/clock.hpp"
#include "modem/session/backoff.hpp"

namespace modem::session {

enum class PdpType { kIpv4, kIpv6, kIpv4v6 };

struct PdpSettings {
  int context_id = 1;
  PdpType type = PdpType::kIpv4;
  std::string apn;
  std::string username;
  std::string password;  // never logged
};

struct Will {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

// TLS to the upstream broker, done by the module's own TLS stack: the session uploads the files
// to the module, points an SSL context at them and ties the MQTT client to it. The daemon reads
// and checks the files on the host (daemon/tls_files.hpp); here they are only bytes.
struct TlsSettings {
  enum class Version { kTls12, kAny };

  bool enabled = false;
  bool verify_peer = true;  // false: encrypt only (no chain, name or validity check)
  bool sni = true;          // send the host name in the ClientHello
  Version version = Version::kTls12;
  // PEM, LF line endings, as checked on the host. Empty: not used.
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;  // never logged
  // The validity window every certificate above shares (the latest notBefore, the earliest
  // notAfter), to check them against the module's clock, which the host cannot know in advance.
  std::optional<std::chrono::system_clock::time_point> valid_from;
  std::optional<std::chrono::system_clock::time_point> valid_until;
  // Which file limits the window, for the log line when the module's clock is outside it.
  std::string valid_from_file;
  std::string valid_until_file;
  // Asked for the time when the module's clock is not valid and the network gave it none.
  std::string ntp_server = "pool.ntp.org";

  bool operator==(const TlsSettings&) const = default;
};

struct SessionConfig {
  // The module: "auto" (found from what the module says, helped by `model_hint`), or one of
  // dialect_names() (modem/session/dialects.hpp).
  std::string model = "auto";
  std::string model_hint;  // what USB discovery knows the module as ("Quectel EC25"), or empty

  // cellular
  PdpSettings pdp;

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
  std::optional<Will> will;
  TlsSettings tls;
  std::vector<std::pair<std::string, int>> subscriptions;  // filter, QoS
  // Messages from the broker wait in the module and are read with a command instead of arriving
  // inside a URC (where the family has such a mode; both are binary-safe).
  bool buffered_receive = false;
  int packet_timeout_s = 5;  // how long the module waits for a PUBACK/SUBACK before resending
  int packet_retries = 3;

  // timing of bring-up and recovery
  Duration registration_timeout = std::chrono::seconds(120);  // then the radio is cycled
  Duration boot_timeout = std::chrono::seconds(30);           // for the boot marker after a reset
  Duration health_interval = std::chrono::seconds(60);        // signal / registration query in Ready
  Duration stable_after = std::chrono::seconds(60);           // Ready this long resets the ladder
  BackoffConfig backoff;
  int attempts_per_rung = 3;   // failed attempts at one rung of the ladder before climbing
  unsigned mute_timeouts = 3;  // consecutive AT timeouts that count as a failed attempt
};

// "{imei}" and "{iccid}" in `client_id`, replaced by the module's.
std::string expand_client_id(const std::string& client_id, const std::string& imei, const std::string& iccid);

}  // namespace modem::session
