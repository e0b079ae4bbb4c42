// cellmqttd's configuration (TOML, default /etc/cellmqttd/cellmqttd.toml), as plain structs kept
// apart from the objects they configure. etc/cellmqttd.toml is the commented reference.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modem/session/session_config.hpp"
#include "tls_files.hpp"

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
  // Asked for the time when the module's clock is not valid, so that it can check the broker's
  // certificate dates (TLS only); the module resolves the name.
  std::string ntp_server = "pool.ntp.org";
};

struct WillConfig {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

// [upstream.tls]: TLS to the upstream broker, done by the module's own TLS stack. With enabled =
// false the rest is not used and no file is read.
struct UpstreamTlsConfig {
  bool enabled = false;
  // As written: a path (relative: to the configuration file's directory) or "credential:<name>"
  // (a systemd credential); "" when not given.
  std::string ca_file;    // the CA bundle the server must chain to
  std::string cert_file;  // the client certificate, for mutual TLS (AWS IoT); with key_file
  std::string key_file;
  bool verify_peer = true;      // verify = "peer" (chain and name) | "none" (encrypt only)
  bool sni = true;              // send the host name
  std::string version = "1.2";  // "1.2" | "any"
  // What the module gets: the files as checked on the host (tls_files.hpp), normalised PEM, and
  // the window every certificate in them is valid in. Filled when enabled.
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;  // never logged
  tls::ValidityWindow window;
};

struct UpstreamConfig {
  std::string host;
  int port = 1883;                             // 8883 when TLS is on and no port is given
  std::string client_id = "cellmqttd-{imei}";  // {imei} and {iccid} are filled in
  std::optional<std::string> username;
  std::optional<std::string> password;  // or password_file
  int keepalive_s = 120;
  bool clean_session = false;      // the broker keeps our subscriptions and queued commands meanwhile
  std::string protocol = "3.1.1";  // "3.1.1" | "3.1"
  std::optional<WillConfig> will;
  UpstreamTlsConfig tls;
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
  bool warning = false;  // worth reading, but the configuration is usable
  // A TLS file (its contents, mode, or reading it) is the problem, not the configuration: a
  // certificate renewed wrongly must not stop the local side and the spool, so the daemon runs
  // without an upstream connection until the file is fixed (--check-config still fails).
  bool tls_file = false;
  // "file:line:column: key: message" ("file:line:column: warning: key: message"), the form editors
  // and compilers use
  std::string to_string() const;
};

struct ConfigResult {
  // Set when there are no errors, or when every error is a tls_file one.
  std::optional<DaemonConfig> config;
  std::vector<ConfigError> errors;    // every error found, not just the first
  std::vector<ConfigError> warnings;  // to print at --check-config and log at start
};

// Reads and validates the file at `path`; password_file and [upstream.tls] paths are relative to
// its directory. The TLS files are read and checked too, against the host's clock.
ConfigResult load_config(const std::string& path);
// The same, for text already in memory (`source_name` is used in the errors).
ConfigResult parse_config(std::string_view text, const std::string& source_name,
                          const std::string& base_dir = ".");

// The session's part of the configuration.
modem::session::SessionConfig to_session_config(const DaemonConfig& config);
// Whether every error of `result` is about a TLS file (and there is at least one).
bool only_tls_file_errors(const ConfigResult& result);

}  // namespace cellmqttd
