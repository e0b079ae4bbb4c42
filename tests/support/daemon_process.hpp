// The real cellmqttd binary as a test's daemon: its configuration written into a fresh temp dir,
// started as a child process with NOTIFY_SOCKET pointing at a datagram socket the test owns (as
// systemd's Type=notify does), its stderr in a log file, stopped by signals like systemctl does.
// The notify socket is read all the time by a thread of its own, as systemd reads it: sd_notify()
// blocks once the socket's queue (net.unix.max_dgram_qlen, 10 by default) is full, so a socket
// read only while a test waits would freeze the daemon in the middle of a test's traffic.
// Every wait is for an event (a notify datagram, the process ending, the log growing) and ends at
// a generous limit that only guards against a hang.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace test_support {

// One [[bridge]] rule, written as it is into the TOML.
struct BridgeSpec {
  std::string topic;
  std::string direction = "out";  // "out" | "in" | "both"
  int qos = 1;
  std::string local_prefix;
  std::string remote_prefix;
};

// What a test chooses about the daemon's configuration; the rest is fixed by DaemonProcess (the
// spool in the temp dir, [upstream] host broker.example.com:1883, which modemsim redirects).
struct DaemonSettings {
  std::string modem_port;  // modemsim's link
  int local_port = 0;      // the local mosquitto
  std::string upstream_client_id = "cellmqttd-e2e";
  int keepalive_s = 0;  // [upstream] keepalive_s; 0: the daemon's default
  std::string local_client_id = "cellmqttd";
  std::vector<BridgeSpec> bridges;
  std::size_t spool_max_messages = 100000;
  std::size_t spool_max_bytes = 64 * 1024 * 1024;
  std::string spool_overflow = "drop-oldest";
  std::string status_topic = "cellmqttd/status";
  int status_interval_s = 60;
  std::string log_level = "debug";
  bool at_trace = false;  // the AT traffic in the log (with log_level "trace")
  // [upstream.tls] (TLS tests): its key = value lines; empty: no such section. File paths in it
  // are relative to the daemon's temp dir (DaemonProcess::dir()), where the test writes them.
  std::string upstream_tls_toml;
};

// The TOML text for `settings`, with the spool at `spool_path`.
std::string daemon_config_toml(const DaemonSettings& settings, const std::string& spool_path);

struct ExitStatus {
  bool exited = false;  // ended by exit(); otherwise killed by `signal`
  int code = -1;
  int signal = 0;
  bool clean() const { return exited && code == 0; }
  std::string describe() const;
};

struct DaemonStartOptions {
  // Sets WATCHDOG_USEC (and WATCHDOG_PID to the daemon's pid), as systemd does for WatchdogSec=.
  std::optional<std::chrono::microseconds> watchdog;
};

// What a short run of the binary printed, and how it ended (--check-config, --version).
struct CommandResult {
  ExitStatus status;
  std::string out;  // stdout
  std::string err;  // stderr
};

class DaemonProcess {
 public:
  // Creates the temp dir, writes the configuration and binds the notify socket; does not start.
  explicit DaemonProcess(const DaemonSettings& settings);
  ~DaemonProcess();  // SIGKILL if still running, then removes the temp dir
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Starts `cellmqttd --config <config_path()>`; the notifications of an earlier run are
  // forgotten, the log is appended to. Throws if a previous run is still going.
  void start(DaemonStartOptions options = {});
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Sends a signal to the running daemon.
  void signal(int signal);
  // Waits for the daemon to end; nullopt if it is still running at `limit`.
  std::optional<ExitStatus> wait_exit(std::chrono::milliseconds limit = std::chrono::seconds(30));

  // Waits for READY=1 from this run.
  bool wait_ready(std::chrono::milliseconds limit = std::chrono::seconds(30));
  // Waits for a notification (one datagram) of this run with `line` as one of its lines, at index
  // `from` or later; returns its index. Stops early if the daemon ends.
  std::optional<std::size_t> wait_for_notification(
      std::string_view line, std::size_t from = 0,
      std::chrono::milliseconds limit = std::chrono::seconds(30));
  // The datagrams received so far in this run, each as sent ("READY=1\nSTATUS=...").
  std::vector<std::string> notifications();
  // The value of `key=` in a datagram, if it has that line.
  static std::optional<std::string> notification_field(const std::string& datagram, std::string_view key);

  // stderr of every run so far.
  std::string log() const;
  std::size_t log_size() const;
  // Waits (inotify on the log file) until the log, from byte `from` on, contains `text`.
  bool wait_for_log(std::string_view text, std::size_t from = 0,
                    std::chrono::milliseconds limit = std::chrono::seconds(30));

  // Replaces the configuration file (for SIGHUP, or the next start()).
  void rewrite_config(const DaemonSettings& settings);
  void rewrite_config_text(std::string_view toml);

  const std::string& dir() const { return dir_; }
  const std::string& config_path() const { return config_path_; }
  const std::string& spool_path() const { return spool_path_; }

  // Runs cellmqttd with `args` to the end (at most `limit`), stdout and stderr captured.
  static CommandResult run(const std::vector<std::string>& args,
                           std::chrono::milliseconds limit = std::chrono::seconds(30));

 private:
  void read_notifications();  // the reader thread
  bool drain_locked();        // reads what the socket holds into notifications_ (mutex_ held)
  // Waits until `done(notifications)` holds, the daemon ends or `limit`.
  template <typename Done>
  bool wait_until(Done done, std::chrono::milliseconds limit);
  void reap(int wait_status);

  std::string dir_;
  std::string config_path_;
  std::string spool_path_;
  std::string log_path_;
  std::string notify_path_;
  int notify_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: the reader thread stored a datagram
  int stop_fd_ = -1;  // eventfd: the reader thread should end
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::optional<ExitStatus> exit_;
  mutable std::mutex mutex_;
  std::vector<std::string> notifications_;  // guarded by mutex_
  std::thread reader_;
};

}  // namespace test_support
