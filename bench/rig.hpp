// One benchmark setup, all real parts on loopback: an upstream mosquitto, a local mosquitto,
// modemsim at 115200 baud on a pseudo-terminal, the cellmqttd binary between them, a subscriber on
// the upstream broker (the "cloud") and a watcher of the daemon's retained state topic on the local
// broker. Every bench rule maps local "<x>" to upstream "up/<x>".
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/modemsim_process.hpp"
#include "support/mosquitto_broker.hpp"
#include "support/mqtt_test_client.hpp"

namespace bench {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kBaud = 115200;
constexpr std::string_view kRemotePrefix = "up/";

struct RigOptions {
  int latency_ms = 0;                             // modemsim --latency-ms
  int rtt_ms = 0;                                 // modemsim --rtt-ms
  int boot_ms = 0;                                // modemsim --boot-ms: also the time a "reboot" fault takes
  std::vector<test_support::BridgeSpec> bridges;  // remote_prefix is set to kRemotePrefix
  int status_interval_s = 60;
  std::size_t spool_max_messages = 200000;
  bool start_daemon = true;  // false: start_daemon() later (to time a cold start)
};

// A broker for the bench: no limit on queued messages (the bench counts every one), no Nagle.
test_support::BrokerOptions bench_broker();

class Rig {
 public:
  // Starts everything and waits until the daemon reports Ready ("1" on its state topic).
  explicit Rig(const RigOptions& options);
  // Starts the daemon (when the options deferred it) and returns at once.
  void start_daemon() { daemon_->start(); }
  ~Rig();
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;

  // Pumps the upstream subscriber and the state watcher, waiting on both sockets at once, until
  // `done()` holds or `limit` passes; returns done().
  bool pump_until(const std::function<bool()>& done, milliseconds limit);
  // The first state message equal to `value` at index `from` or later, waiting up to `limit`.
  std::optional<Clock::time_point> wait_state(std::string_view value, std::size_t from, milliseconds limit);
  std::size_t state_messages() const { return state_watch_.messages().size(); }
  // The spool depth in the latest status document, once one arrived.
  std::optional<long> spool_depth() const;

  test_support::MosquittoBroker& upstream() { return upstream_; }
  test_support::MosquittoBroker& local() { return local_; }
  test_support::ModemsimProcess& modemsim() { return *modemsim_; }
  test_support::DaemonProcess& daemon() { return *daemon_; }
  // Subscribed to "up/#" at QoS 1 on the upstream broker; and to the daemon's state and status
  // topics on the local broker.
  test_support::MqttTestClient& sink() { return sink_; }

 private:
  test_support::MosquittoBroker upstream_;
  test_support::MosquittoBroker local_;
  std::unique_ptr<test_support::ModemsimProcess> modemsim_;
  std::unique_ptr<test_support::DaemonProcess> daemon_;
  test_support::MqttTestClient sink_;
  test_support::MqttTestClient state_watch_;
};

inline double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// modemsim's command line for the bench: 115200 baud and these times.
std::vector<std::string> modemsim_args(int latency_ms, int rtt_ms, int boot_ms);

}  // namespace bench
