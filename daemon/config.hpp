// cellmqttd's configuration (TOML, default /etc/cellmqttd/cellmqttd.toml), as plain structs kept
// apart from the objects they configure. etc/cellmqttd.toml is the commented reference.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modem/session/session_config.hpp"

namespace cellmqttd {

struct ModemConfig {
  std::string port = "auto";  // "auto" or a device path (/dev/ttyUSB2, /dev/serial/by-id/...)
  int baud = 115200;
  std::string model = "auto";  // "auto", "ec200u", ...
};

struct CellularConfig {
  std::string apn;
  std::string username;
  std::string password;           // or password_file; never logged
  std::string pdp_type = "ipv4";  // "ipv4" | "ipv6" | "ipv4v6"
  int context_id = 1;
};

struct WillConfig {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

struct UpstreamConfig {
  std::string host;
  int port = 1883;
  std::string client_id = "cellmqttd-{imei}";  // {imei} and {iccid} are filled in
  std::optional<std::string> username;
  std::optional<std::string> password;  // or password_file
  int keepalive_s = 120;
  bool clean_session = false;      // the broker keeps our subscriptions and queued commands meanwhile
  std::string protocol = "3.1.1";  // "3.1.1" | "3.1"
  std::optional<WillConfig> will;
};

struct LocalConfig {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string client_id = "cellmqttd";
  std::optional<std::string> username;
  std::optional<std::string> password;  // or password_file
  bool clean_session = false;           // the local broker queues for us while we restart
};

enum class Direction { kOut, kIn, kBoth };  // out: local -> upstream; in: upstream -> local

// mosquitto's bridge "topic" line: topic <pattern> [out|in|both [qos [local-prefix remote-prefix]]]
struct BridgeRule {
  std::string topic;  // pattern with + and #
  Direction direction = Direction::kOut;
  int qos = 1;
  std::string local_prefix;
  std::string remote_prefix;
};

enum class Overflow { kDropOldest, kDropNew };

struct SpoolConfig {
  std::string path = "/var/lib/cellmqttd/spool.db";
  std::size_t max_messages = 100000;
  std::size_t max_bytes = 64 * 1024 * 1024;
  Overflow overflow = Overflow::kDropOldest;
};

struct StatusConfig {
  std::string topic = "cellmqttd/status";
  int interval_s = 60;
};

struct LogConfig {
  std::string level = "info";  // trace | debug | info | warn | error
  bool at_trace = false;       // the AT traffic, secrets masked
};

struct DaemonConfig {
  ModemConfig modem;
  CellularConfig cellular;
  UpstreamConfig upstream;
  LocalConfig local;
  std::vector<BridgeRule> bridges;
  SpoolConfig spool;
  StatusConfig status;
  LogConfig log;
};

struct ConfigError {
  std::string file;
  int line = 0;     // 1-based; 0 when the error is about the file as a whole
  int column = 0;   // 1-based
  std::string key;  // dotted: "upstream.port", "bridge[2].direction"
  std::string message;
  // "file:line:column: key: message", the form editors and compilers use
  std::string to_string() const;
};

struct ConfigResult {
  std::optional<DaemonConfig> config;  // set when there are no errors
  std::vector<ConfigError> errors;     // every error found, not just the first
};

// Reads and validates the file at `path`; password_file paths are relative to its directory.
ConfigResult load_config(const std::string& path);
// The same, for text already in memory (`source_name` is used in the errors).
ConfigResult parse_config(std::string_view text, const std::string& source_name,
                          const std::string& base_dir = ".");

// The session's part of the configuration.
modem::session::SessionConfig to_session_config(const DaemonConfig& config);

}  // namespace cellmqttd
