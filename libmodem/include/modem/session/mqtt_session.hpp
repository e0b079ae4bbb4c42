// The MQTT session: brings a module from power-on to a connected MQTT client, keeps it there
// through network drops, PDP loss and module reboots, and carries publishes up and messages down.
// An explicit state machine (DESIGN.md): every input, a command result, a URC, a timer, a request,
// becomes an Event handled by the current State. It knows no AT: the stages are the Dialect's
// scripts (modem/session/dialect.hpp), the V.250/27.007 basics modem/gpp's, and the dialect is
// chosen from the module's own words (modem/session/dialects.hpp).
//
// Recovery is a ladder, entered at the rung the module's reason points to (the dialect decodes
// it) and climbed when a rung keeps failing:
//   reopen the MQTT network -> cycle the data connection -> radio off/on (CFUN 0/1) -> reset
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
#include "modem/session/backoff.hpp"
#include "modem/session/dialect.hpp"
#include "modem/session/module_info.hpp"
#include "modem/session/session_config.hpp"
#include "modem/session/types.hpp"
#include "modem/transport/event_loop.hpp"

namespace spdlog {
class logger;
}

namespace modem::session {

class MqttSession {
 public:
  // The registration poll's period (poll_registration): 2 s, doubling to 30 s.
  static constexpr Duration kRegistrationPollFirst = std::chrono::seconds(2);
  static constexpr Duration kRegistrationPollMax = std::chrono::seconds(30);

  MqttSession(at::Channel& channel, EventLoop& loop, SessionConfig config, SessionObserver observer = {});
  // A session that drives `dialect` whatever config.model says, and never swaps it for what the
  // module reports: a dialect outside the registry (the tests' fake one).
  MqttSession(at::Channel& channel, EventLoop& loop, SessionConfig config, SessionObserver observer,
              std::unique_ptr<Dialect> dialect);
  ~MqttSession();
  MqttSession(const MqttSession&) = delete;
  MqttSession& operator=(const MqttSession&) = delete;

  // Starts the bring-up. Returns false, logging every problem, when the configuration cannot be
  // used with the module it names: nothing is sent to the module then.
  bool start();
  // Disconnects cleanly if connected, then calls `done`.
  void stop(std::function<void()> done);

  Admission publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                    PublishCallback callback, std::string* reason = nullptr);
  // How many publish() calls would be accepted now.
  std::size_t publish_slots() const;
  // Why a publish to `topic` of `payload_size` bytes can never go through this module, or nullopt.
  std::optional<std::string> check_publish(std::string_view topic, std::size_t payload_size) const;

  // New upstream subscriptions (a reload): in Ready the removed filters are unsubscribed and the
  // new ones subscribed at once, without dropping the session; every later reconnect uses them.
  void set_subscriptions(std::vector<std::pair<std::string, int>> filters);
  // New TLS settings (a reload with changed files): when they differ, the session reconnects and
  // uploads what changed; unchanged settings cost nothing.
  void set_tls(TlsSettings tls);

  State state() const { return state_; }
  bool ready() const { return state_ == State::kReady; }
  const ModuleInfo& info() const { return info_; }
  const SessionStats& stats() const { return stats_; }
  Rung rung() const { return rung_; }
  // The dialect driving the module: the configured one, or what "auto" found.
  const Dialect& dialect() const { return *dialect_; }

 private:
  struct InFlight {
    int qos;
    PublishCallback callback;
    int retransmissions = 0;
  };

  // the state machine
  void post(Event event, const std::string& detail = {});
  void fail(Failure failure);  // kStepFailed, with why
  void transition(State next);
  void enter(State state);
  void leave(State state);
  void handle(Event event, const std::string& detail);
  bool handle_in_any_state(Event event, const std::string& detail);
  void arm_timer(Duration delay);

  // scripts of commands, as data (Zephyr modem_chat's idea)
  void run(Script steps);
  void run_step(std::shared_ptr<Script> steps, std::size_t index, std::uint64_t generation);

  // the stages the session itself knows (V.250 / 27.007)
  Script probing_script();
  Script identifying_script();
  Script standard_ids_script();
  bool module_known() const;
  Script registering_script();
  void poll_registration(Duration wait);  // AT+CxREG? after `wait`, until registered (backing off)
  void choose_dialect();
  void identified();
  void query_health();
  void check_connection();  // in Ready: the dialect's "still connected?" query; recovers if not

  // recovery
  void recover(Rung at_least, const std::string& reason, bool counts = true);
  State entry_state(Rung rung) const;
  void session_lost(const std::string& why);
  void session_closed(const SessionClosed& closed);
  // From the clean-up to Ready: the stages that stand on the data connection.
  bool past_the_data_connection() const;
  void log_tls_ready();
  void note_tls_failure(const Failure& failure);  // into ModuleInfo::tls for the status

  // events from the dialect and the channel
  DialectEvents dialect_events();
  void register_urcs();
  void on_message_waiting(int slot);
  void refuse_message(std::string_view why, std::string_view line);

  // publishing
  int next_msgid();
  int next_subscribe_msgid();
  void finish_publish(int key, PublishOutcome outcome);
  void fail_all_in_flight(const std::string& reason);

  at::Channel& channel_;
  EventLoop& loop_;
  SessionConfig config_;
  SessionObserver observer_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<Dialect> dialect_;
  std::unique_ptr<DialectLink> link_;
  std::vector<at::UrcRegistry::HandlerId> urc_handlers_;

  State state_ = State::kStopped;
  std::uint64_t generation_ = 0;  // bumped on every transition: results of an earlier state are ignored
  std::optional<EventLoop::TimerId> state_timer_;
  std::optional<EventLoop::TimerId> health_timer_;
  std::optional<EventLoop::TimerId> poll_timer_;  // the registration poll, while kRegistering
  std::optional<EventLoop::TimerId> stable_timer_;
  State resume_ = State::kProbing;  // where kWaiting goes when its backoff is over
  bool connection_check_pending_ = false;
  bool mqtt_opened_ = false;  // the open succeeded in this attempt: a close report is now real
  // kIdentifying runs in steps: ATI; AT+CGMI/AT+CGMM when ATI named no module this build knows;
  // then the chosen dialect's identify script.
  enum class IdentifyStep { kAti, kStandardIds, kDialect };
  IdentifyStep identify_step_ = IdentifyStep::kAti;
  bool unknown_module_logged_ = false;
  bool detects_dialect_ = true;     // "auto": ATI may swap the dialect (choose_dialect)
  std::optional<Failure> failure_;  // the one kStepFailed carries
  std::function<void()> stopped_;

  Rung rung_ = Rung::kReopen;
  int failures_at_rung_ = 0;
  Backoff backoff_;
  unsigned connack_refusals_ = 0;

  std::map<int, InFlight> in_flight_;  // by msgid (QoS 0 publishes by a negative serial)
  int last_msgid_ = 0;
  int qos0_serial_ = 0;
  int subscribe_msgid_ = 0;
  std::set<int> buffered_reads_;  // buffered receive: slots whose read is queued or in flight

  ModuleInfo info_;
  SessionStats stats_;
  // Last: its summary at destruction uses log_ and stats_.
  LogThrottle refused_log_;
};

}  // namespace modem::session
