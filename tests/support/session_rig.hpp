// An MqttSession wired to real parts: a mosquitto broker on a free loopback port, the modemsim
// binary on a pseudo-terminal, the production SerialPort, Channel and EventLoop. The AT trace and
// the session's log lines are captured for assertions.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "modem/at/channel.hpp"
#include "modem/session/mqtt_session.hpp"
#include "modem/transport/event_loop.hpp"
#include "modem/transport/serial_port.hpp"
#include "support/log_capture.hpp"
#include "support/modemsim_process.hpp"
#include "support/mosquitto_broker.hpp"

namespace test_support {

struct SessionRigOptions {
  std::vector<std::string> modemsim_args{};
  BrokerOptions broker{};
  std::function<void(modem::session::SessionConfig&)> configure{};  // adjust the defaults
};

class SessionRig {
 public:
  explicit SessionRig(SessionRigOptions options = {});
  ~SessionRig();

  // Runs the loop until `done` holds. `limit` only stops a broken test from hanging; it is not a
  // timing assertion.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::seconds(60));
  bool run_until_ready(std::chrono::milliseconds limit = std::chrono::seconds(60));
  // Runs the loop until the session has left Ready and come back to it.
  bool run_until_ready_again(std::chrono::milliseconds limit = std::chrono::seconds(90));

  modem::session::MqttSession& session() { return *session_; }
  modem::at::Channel& channel() { return *channel_; }
  modem::EventLoop& loop() { return loop_; }
  MosquittoBroker& broker() { return broker_; }
  ModemsimProcess& sim() { return sim_; }
  const LogCapture& at_trace() const { return at_trace_; }
  const LogCapture& session_log() const { return session_log_; }
  const modem::session::SessionConfig& config() const { return config_; }

  std::vector<modem::session::State> states;  // every state entered, in order
  std::vector<modem::session::InboundMessage> messages;

 private:
  modem::SteadyClock clock_;
  modem::EventLoop loop_{clock_};
  LogCapture at_trace_{"at", spdlog::level::trace};
  LogCapture session_log_{"session", spdlog::level::debug};
  MosquittoBroker broker_;
  ModemsimProcess sim_;
  std::unique_ptr<modem::SerialPort> port_;
  std::unique_ptr<modem::at::Channel> channel_;
  modem::session::SessionConfig config_;
  std::unique_ptr<modem::session::MqttSession> session_;
};

// Index of the first command in `commands` at or after `from` that starts with `prefix`, or -1.
int find_command(const std::vector<std::string>& commands, const std::string& prefix, std::size_t from = 0);

}  // namespace test_support
