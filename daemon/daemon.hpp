// cellmqttd as a whole: one event loop over the module's serial fd, the local broker's socket,
// timers and signals (DESIGN.md). It owns the module through libmodem's session and moves
// messages between the local Mosquitto and the upstream broker the module reaches:
//
//   local publish -> bridge rule (out) -> spool (committed before the PUBACK) -> session, in order,
//                    up to the module's window -> delivered: removed from the spool
//   module message -> bridge rule (in) -> local publish (held, bounded, while the local broker is down)
#pragma once

#include <csignal>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "bridge_rules.hpp"
#include "config.hpp"
#include "local_client.hpp"
#include "modem/at/channel.hpp"
#include "modem/log_throttle.hpp"
#include "modem/session/mqtt_session.hpp"
#include "modem/transport/event_loop.hpp"
#include "modem/transport/serial_port.hpp"
#include "notify.hpp"
#include "spool.hpp"
#include "status.hpp"

namespace cellmqttd {

// Exit codes, also documented in --help and the README.
constexpr int kExitOk = 0;
constexpr int kExitConfig = 1;   // the configuration is invalid
constexpr int kExitUsage = 2;    // bad command line
constexpr int kExitRuntime = 3;  // cannot start: the spool cannot be opened, signals, ...

class Daemon {
 public:
  Daemon(modem::EventLoop& loop, DaemonConfig config, std::string config_path, bool verbose);
  ~Daemon();

  // Runs until SIGTERM or SIGINT; returns the exit code.
  int run();
  // Problems of the TLS files found when the configuration was read (ConfigError::tls_file), given
  // before run(): the daemon then runs its local side and spool without an upstream connection,
  // reports why, and looks at the files again after a backoff and at every SIGHUP.
  void set_tls_file_errors(std::vector<ConfigError> errors) { tls_file_errors_ = std::move(errors); }

 private:
  class Signals;

  // the module
  void open_modem();
  void retry_modem(const std::string& why);
  void modem_lost(const std::string& why);
  void wait_for_tls_files();     // logs why TLS cannot start, reports it, looks again later
  void check_tls_files_again();  // reads the configuration again: fixed files start the module
  void apply_tls_file_errors(std::vector<ConfigError> errors);
  // bridging
  void on_local_message(const LocalMessage& message);
  bool after_local_read();
  void drain();
  void on_outcome(std::int64_t id, const modem::session::PublishOutcome& outcome);
  void on_upstream_message(const modem::session::InboundMessage& message);
  // status and systemd
  void status_changed();
  void publish_status();
  void periodic_status();
  void watchdog();
  // signals
  void reload();
  std::string reload_tls(const DaemonConfig& fresh);  // what it did, for the reload's log line
  void shutdown();

  StatusSnapshot snapshot() const;
  std::string state_topic() const { return config_.status.topic + "/state"; }

  modem::EventLoop& loop_;
  DaemonConfig config_;
  std::string config_path_;
  bool verbose_;
  std::shared_ptr<spdlog::logger> log_;
  Notifier notifier_;
  std::unique_ptr<Signals> signals_;
  BridgeRules rules_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<LocalClient> local_;

  std::unique_ptr<modem::SerialPort> port_;
  std::unique_ptr<modem::at::Channel> channel_;
  std::unique_ptr<modem::session::MqttSession> session_;
  modem::session::Backoff modem_backoff_;
  modem::session::ModuleInfo no_module_;
  std::string no_module_reason_;              // the last reason open_modem() failed, until it succeeds
  std::vector<ConfigError> tls_file_errors_;  // non-empty: the module waits for usable TLS files
  modem::session::Backoff tls_files_backoff_;
  std::optional<modem::EventLoop::TimerId> tls_files_timer_;

  std::set<std::int64_t> sending_;  // spool ids handed to the session, not yet delivered
  std::int64_t last_sent_id_ = 0;
  bool rewind_ = false;  // a send failed: start again from the oldest once idle
  bool spool_dirty_ = false;
  bool spool_healthy_ = true;
  BridgeCounters counters_;
  bool status_scheduled_ = false;
  std::string last_state_payload_;
  bool stopping_ = false;
  int exit_code_ = kExitOk;
  // A flood of drops or refusals is logged as its first line and one summary per interval; the
  // counters stay exact. Last, so their final summaries (at destruction) still find the rest.
  modem::LogThrottle spool_drop_log_;
  modem::LogThrottle spool_error_log_;
  modem::LogThrottle refused_log_;
};

}  // namespace cellmqttd
