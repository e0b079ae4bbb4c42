// The Quectel MQTT session: brings a module of the EC2x/EC200x family from power-on to a connected
// MQTT client, keeps it there through network drops, PDP loss and module reboots, and carries
// publishes up and messages down. An explicit state machine (DESIGN.md): every input, a command
// result, a URC, a timer, a request, becomes an Event handled by the current State.
//
// Recovery is a ladder, entered at the rung the module's reason points to (the +QMTSTAT table of
// the MQTT application note) and climbed when a rung keeps failing:
//   reopen the MQTT network -> cycle the PDP context -> radio off/on (CFUN 0/1) -> reset (CFUN=1,1)
// with an exponential, jittered, capped backoff between attempts, both reset after the session
// has been Ready for `stable_after`.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "modem/at/channel.hpp"
#include "modem/log_throttle.hpp"
#include "modem/quectel/dialect.hpp"
#include "modem/session/backoff.hpp"
#include "modem/session/module_info.hpp"
#include "modem/session/session_config.hpp"
#include "modem/transport/event_loop.hpp"

namespace spdlog {
class logger;
}

namespace modem::session {

enum class State {
  kStopped,          // not started, or the device is gone
  kProbing,          // AT until it answers, then ATE0 and AT+CMEE=1
  kIdentifying,      // ATI, AT+CGMR, AT+CGSN, AT+CPIN?, AT+QCCID, AT+CIMI
  kSimError,         // no SIM, or it wants a PIN: asked again after each backoff
  kRegistering,      // registration URCs on, then waiting to be registered
  kActivatingPdp,    // AT+QICSGP, AT+QIACT
  kCleaningUp,       // AT+QMTDISC / AT+QMTCLOSE of whatever a previous life left open
  kConfiguringMqtt,  // AT+QMTCFG, every time: the module forgets it at power-down
  kOpening,          // AT+QMTOPEN, waiting for +QMTOPEN
  kConnecting,       // AT+QMTCONN, waiting for +QMTCONN
  kSubscribing,      // AT+QMTSUB for every filter
  kReady,            // connected: publishes go up, messages come down
  kWaiting,          // backing off before the next recovery attempt
  kCyclingPdp,       // AT+QIDEACT before activating again
  kCyclingRadio,     // AT+CFUN=0 then AT+CFUN=1
  kRebooting,        // AT+CFUN=1,1, waiting for RDY
  kStopping,         // AT+QMTDISC on the way out
};
const char* to_string(State state);

enum class Event {
  kStart,
  kStop,
  kStepsDone,       // every command of the state's script succeeded
  kStepFailed,      // one failed (the reason is logged with it)
  kTimer,           // the state's deadline: a backoff, the registration or boot timeout
  kModuleBooted,    // RDY
  kRegistered,      // a registration URC says registered
  kPdpDeactivated,  // +QIURC: "pdpdeact" for our context
  kMqttClosed,      // +QMTSTAT for our client
  kChannelStuck,    // the module did not answer several AT commands in a row
  kChannelClosed,   // the device went away
};
const char* to_string(Event event);

// The rungs of the recovery ladder, lowest first.
enum class Rung { kReopen, kCyclePdp, kCycleRadio, kReboot };
const char* to_string(Rung rung);

struct InboundMessage {
  std::string topic;
  std::string payload;  // byte-exact
  int msgid = 0;        // the broker's packet id; 0 for QoS 0
};

enum class PublishStatus {
  kDelivered,  // the module reported the broker's acknowledgement (QoS 0: the send)
  kFailed,     // no acknowledgement: the module gave up, the session was lost, the device went away
};
struct PublishOutcome {
  PublishStatus status = PublishStatus::kFailed;
  int retransmissions = 0;  // +QMTPUBEX: <idx>,<msgid>,1,<n> seen before the outcome
  std::string reason;       // for kFailed
};
using PublishCallback = std::function<void(const PublishOutcome&)>;

enum class Admission {
  kAccepted,  // the callback will run exactly once
  kBusy,      // not Ready, or the in-flight window is full: offer it again later
  kRejected,  // it can never be sent (a topic that could break out of its AT argument, a payload
              // over the module's limit): `reason` says why; no callback
};

struct SessionStats {
  std::uint64_t publishes_accepted = 0;
  std::uint64_t publishes_delivered = 0;
  std::uint64_t publishes_failed = 0;
  std::uint64_t publishes_rejected = 0;
  std::uint64_t retransmissions = 0;
  std::uint64_t messages_received = 0;
  // Received messages not passed on: a line that reads as more than one message, bytes that could
  // not be framed with certainty, an unreadable line, a topic no broker should deliver.
  std::uint64_t messages_refused = 0;
  std::uint64_t recoveries = 0;  // recovery attempts started
  std::uint64_t sessions = 0;    // times Ready was reached
};

struct SessionObserver {
  std::function<void(State)> state_changed;
  std::function<void(const InboundMessage&)> message;
  // A message from the broker was refused (SessionStats::messages_refused says which kinds).
  std::function<void()> message_refused;
  std::function<void()> info_changed;
  std::function<void(const std::string& why)> device_lost;
};

class QuectelSession {
 public:
  QuectelSession(at::Channel& channel, EventLoop& loop, SessionConfig config, SessionObserver observer = {});
  ~QuectelSession();
  QuectelSession(const QuectelSession&) = delete;
  QuectelSession& operator=(const QuectelSession&) = delete;

  // Starts the bring-up. Returns false, logging every problem, when the configuration fails
  // check_session_config(): nothing is sent to the module then.
  bool start();
  // Disconnects cleanly (AT+QMTDISC) if connected, then calls `done`.
  void stop(std::function<void()> done);

  Admission publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                    PublishCallback callback, std::string* reason = nullptr);
  // How many publish() calls would be accepted now.
  std::size_t publish_slots() const;

  // New upstream subscriptions (a reload): in Ready the removed filters are unsubscribed and the
  // new ones subscribed at once, without dropping the session; every later reconnect uses them.
  void set_subscriptions(std::vector<std::pair<std::string, int>> filters);

  State state() const { return state_; }
  bool ready() const { return state_ == State::kReady; }
  const ModuleInfo& info() const { return info_; }
  const SessionStats& stats() const { return stats_; }
  Rung rung() const { return rung_; }

 private:
  struct Step {
    at::Command command;
    // nullopt: the step succeeded; otherwise why it failed.
    std::function<std::optional<std::string>(const at::Result&)> check;
  };
  struct InFlight {
    int qos;
    PublishCallback callback;
    int retransmissions = 0;
  };

  // the state machine
  void post(Event event, const std::string& detail = {});
  void transition(State next);
  void enter(State state);
  void leave(State state);
  void handle(Event event, const std::string& detail);
  void handle_in_any_state(Event event, const std::string& detail, bool& consumed);
  void arm_timer(Duration delay);

  // scripts of commands, as data (Zephyr modem_chat's idea)
  void run(std::vector<Step> steps);
  void run_step(std::vector<Step> steps, std::size_t index, std::uint64_t generation);

  // state entries
  std::vector<Step> probing_script();
  std::vector<Step> identifying_script();
  std::vector<Step> registering_script();
  std::vector<Step> pdp_script();
  std::vector<Step> cleanup_script();
  std::vector<Step> mqtt_config_script();
  std::vector<Step> open_script();
  std::vector<Step> connect_script();
  std::vector<Step> subscribe_script();
  void query_health();

  // recovery
  void recover(Rung at_least, const std::string& reason, bool counts = true);
  State entry_state(Rung rung) const;
  void session_lost(const std::string& why);

  // URCs
  void register_urcs();
  void on_qmtrecv(std::string_view line);
  void read_buffered(int recv_id);
  void refuse_message(std::string_view why, std::string_view line);
  void on_packet_progress(std::string_view line);

  // publishing
  int next_msgid();
  void finish_publish(int msgid, PublishOutcome outcome);
  void fail_all_in_flight(const std::string& reason);

  std::string expanded_client_id() const;

  at::Channel& channel_;
  EventLoop& loop_;
  SessionConfig config_;
  SessionObserver observer_;
  std::shared_ptr<spdlog::logger> log_;
  std::vector<at::UrcRegistry::HandlerId> urc_handlers_;

  State state_ = State::kStopped;
  std::uint64_t generation_ = 0;  // bumped on every transition: results of an earlier state are ignored
  std::optional<EventLoop::TimerId> state_timer_;
  std::optional<EventLoop::TimerId> health_timer_;
  std::optional<EventLoop::TimerId> stable_timer_;
  State resume_ = State::kProbing;  // where kWaiting goes when its backoff is over
  bool mqtt_opened_ = false;        // +QMTOPEN: <idx>,0 seen in this attempt: a +QMTSTAT is now real
  std::function<void()> stopped_;

  Rung rung_ = Rung::kReopen;
  int failures_at_rung_ = 0;
  Backoff backoff_;
  unsigned connack_refusals_ = 0;

  std::map<int, InFlight> in_flight_;  // by msgid (QoS 0 publishes by a negative serial)
  int last_msgid_ = 0;
  int qos0_serial_ = 0;
  int subscribe_msgid_ = 0;

  std::set<int> buffered_reads_;  // recv/mode 1: slots whose AT+QMTRECV is queued or in flight
  // recv/mode is set with <msg_len_enable> 1 (mqtt_config_script); firmware that ignores it is
  // read without a length once it shows itself.
  quectel::RecvFraming recv_framing_ = quectel::RecvFraming::kWithLength;

  ModuleInfo info_;
  SessionStats stats_;
  // Last: its summary at destruction uses log_ and stats_.
  LogThrottle refused_log_;
};

}  // namespace modem::session
