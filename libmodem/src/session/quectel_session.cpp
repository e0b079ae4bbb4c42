#include "modem/session/quectel_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "modem/log.hpp"
#include "modem/quectel/dialect.hpp"
#include "modem/text.hpp"

namespace modem::session {

namespace q = modem::quectel;

const char* to_string(State state) {
  switch (state) {
    case State::kStopped:
      return "stopped";
    case State::kProbing:
      return "probing";
    case State::kIdentifying:
      return "identifying";
    case State::kSimError:
      return "sim-error";
    case State::kRegistering:
      return "registering";
    case State::kActivatingPdp:
      return "activating-pdp";
    case State::kCleaningUp:
      return "cleaning-up";
    case State::kConfiguringMqtt:
      return "configuring-mqtt";
    case State::kOpening:
      return "opening";
    case State::kConnecting:
      return "connecting";
    case State::kSubscribing:
      return "subscribing";
    case State::kReady:
      return "ready";
    case State::kWaiting:
      return "waiting";
    case State::kCyclingPdp:
      return "cycling-pdp";
    case State::kCyclingRadio:
      return "cycling-radio";
    case State::kRebooting:
      return "rebooting";
    case State::kStopping:
      return "stopping";
  }
  return "?";
}

const char* to_string(Event event) {
  switch (event) {
    case Event::kStart:
      return "start";
    case Event::kStop:
      return "stop";
    case Event::kStepsDone:
      return "steps-done";
    case Event::kStepFailed:
      return "step-failed";
    case Event::kTimer:
      return "timer";
    case Event::kModuleBooted:
      return "module-booted";
    case Event::kRegistered:
      return "registered";
    case Event::kPdpDeactivated:
      return "pdp-deactivated";
    case Event::kMqttClosed:
      return "mqtt-closed";
    case Event::kChannelStuck:
      return "channel-stuck";
    case Event::kChannelClosed:
      return "channel-closed";
  }
  return "?";
}

const char* to_string(Rung rung) {
  switch (rung) {
    case Rung::kReopen:
      return "reopen the MQTT network";
    case Rung::kCyclePdp:
      return "cycle the PDP context";
    case Rung::kCycleRadio:
      return "cycle the radio (AT+CFUN=0/1)";
    case Rung::kReboot:
      return "reset the module (AT+CFUN=1,1)";
  }
  return "?";
}

namespace {

// A step that must answer OK.
std::optional<std::string> require_ok(const at::Result& result) {
  if (result.ok()) return std::nullopt;
  return at::describe(result);
}
// A step whose failure does not matter (an optional query, cleanup of what may not exist).
std::optional<std::string> ignore_result(const at::Result&) {
  return std::nullopt;
}

std::string first_line(const at::Result& result) {
  return result.lines.empty() ? std::string() : result.lines.front();
}

constexpr std::string_view kRecvPrefix = "+QMTRECV:";
// AT+QMTRECV <recv_id>: 0-4 (AN 3.3.9, five <store_status> flags).
constexpr int kReceiveSlots = 5;

// Why a topic a message arrived on cannot be passed on, or nullopt. The broker should never
// deliver such a topic name (MQTT 3.1.1 §1.5.3, §4.7.1): a control character would forge a line
// in a log or a terminal, a wildcard is not a topic, and invalid UTF-8 no broker accepts.
std::optional<std::string> check_received_topic(std::string_view topic) {
  if (topic.empty()) return "the topic is empty";
  if (!is_valid_utf8(topic)) return "the topic is not valid UTF-8";
  if (has_control_character(topic)) return "the topic contains a control character";
  if (topic.find_first_of("+#") != std::string_view::npos) return "the topic contains a wildcard";
  return std::nullopt;
}

}  // namespace

QuectelSession::QuectelSession(at::Channel& channel, EventLoop& loop, SessionConfig config,
                               SessionObserver observer)
    : channel_(channel),
      loop_(loop),
      config_(std::move(config)),
      observer_(std::move(observer)),
      log_(logger("session")),
      backoff_(config_.backoff),
      refused_log_(loop, [this](std::uint64_t more) {
        log_->warn("refused {} more message(s) from the broker ({} refused in all)", more,
                   stats_.messages_refused);
      }) {}

QuectelSession::~QuectelSession() {
  for (auto id : urc_handlers_)
    channel_.urcs().remove(id);
  for (auto timer : {state_timer_, health_timer_, stable_timer_}) {
    if (timer) loop_.cancel(*timer);
  }
  channel_.on_timeout(nullptr);
  channel_.on_closed(nullptr);
}

bool QuectelSession::start() {
  const auto problems = check_session_config(config_);
  for (const auto& problem : problems)
    log_->error("configuration: {}", problem);
  if (!problems.empty()) return false;
  // Whatever echo or late answer carries them, these never reach a log line.
  if (config_.password) channel_.add_secret(*config_.password);
  channel_.add_secret(config_.pdp.password);
  register_urcs();
  channel_.on_timeout([this](unsigned consecutive) {
    if (consecutive >= config_.mute_timeouts)
      post(Event::kChannelStuck, fmt::format("{} AT timeouts in a row", consecutive));
  });
  channel_.on_closed([this](const std::string& why) { post(Event::kChannelClosed, why); });
  post(Event::kStart);
  return true;
}

void QuectelSession::stop(std::function<void()> done) {
  stopped_ = std::move(done);
  post(Event::kStop);
}

// ---- the state machine ------------------------------------------------------------------------

void QuectelSession::post(Event event, const std::string& detail) {
  log_->debug("[{}] event {}{}{}", to_string(state_), to_string(event), detail.empty() ? "" : ": ", detail);
  bool consumed = false;
  handle_in_any_state(event, detail, consumed);
  if (!consumed) handle(event, detail);
}

void QuectelSession::transition(State next) {
  const State previous = state_;
  leave(previous);
  ++generation_;
  state_ = next;
  log_->info("{} -> {}", to_string(previous), to_string(next));
  if (observer_.state_changed) observer_.state_changed(next);
  enter(next);
}

void QuectelSession::arm_timer(Duration delay) {
  if (state_timer_) loop_.cancel(*state_timer_);
  const auto generation = generation_;
  state_timer_ = loop_.call_after(delay, [this, generation] {
    state_timer_.reset();
    if (generation == generation_) post(Event::kTimer);
  });
}

void QuectelSession::leave(State state) {
  if (state_timer_) {
    loop_.cancel(*state_timer_);
    state_timer_.reset();
  }
  if (state == State::kReady) {
    for (auto* timer : {&health_timer_, &stable_timer_}) {
      if (*timer) loop_.cancel(**timer);
      timer->reset();
    }
  }
}

void QuectelSession::enter(State state) {
  switch (state) {
    case State::kStopped:
      if (stopped_) std::exchange(stopped_, nullptr)();
      break;
    case State::kProbing:
      run(probing_script());
      break;
    case State::kIdentifying:
      run(identifying_script());
      break;
    case State::kSimError:
      arm_timer(backoff_.next());
      break;
    case State::kRegistering:
      run(registering_script());
      break;
    case State::kActivatingPdp:
      run(pdp_script());
      break;
    case State::kCleaningUp:
      mqtt_opened_ = false;
      run(cleanup_script());
      break;
    case State::kConfiguringMqtt:
      run(mqtt_config_script());
      break;
    case State::kOpening:
      run(open_script());
      break;
    case State::kConnecting:
      run(connect_script());
      break;
    case State::kSubscribing:
      run(subscribe_script());
      break;
    case State::kReady: {
      ++stats_.sessions;
      connack_refusals_ = 0;
      info_.connected_since = loop_.clock().now();
      log_->info("connected to {}:{} as client {} via {} {}", config_.host, config_.port,
                 config_.client_index, printable(info_.manufacturer), printable(info_.model));
      if (observer_.info_changed) observer_.info_changed();
      stable_timer_ = loop_.call_after(config_.stable_after, [this] {
        stable_timer_.reset();
        // Up long enough: the next trouble starts again at the bottom of the ladder.
        backoff_.reset();
        rung_ = Rung::kReopen;
        failures_at_rung_ = 0;
      });
      query_health();
      break;
    }
    case State::kWaiting:
      break;  // recover() armed the timer
    case State::kCyclingPdp:
      run({{q::deactivate_pdp(config_.pdp.context_id), ignore_result}});
      break;
    case State::kCyclingRadio:
      run({{q::set_functionality(0), require_ok}, {q::set_functionality(1), require_ok}});
      break;
    case State::kRebooting:
      channel_.submit(q::reset_module(), [](const at::Result&) {});
      arm_timer(config_.boot_timeout);
      break;
    case State::kStopping: {
      const auto generation = generation_;
      channel_.submit(q::mqtt_disconnect(config_.client_index), [this, generation](const at::Result&) {
        if (generation == generation_) transition(State::kStopped);
      });
      break;
    }
  }
}

void QuectelSession::handle_in_any_state(Event event, const std::string& detail, bool& consumed) {
  consumed = true;
  switch (event) {
    case Event::kStop:
      if (state_ == State::kStopped) {
        if (stopped_) std::exchange(stopped_, nullptr)();
      } else if (state_ == State::kReady || state_ == State::kSubscribing) {
        session_lost("stopping");
        transition(State::kStopping);
      } else if (state_ != State::kStopping) {
        fail_all_in_flight("stopping");
        transition(State::kStopped);
      }
      return;
    case Event::kChannelClosed:
      fail_all_in_flight("the module's serial device went away");
      if (state_ != State::kStopped) transition(State::kStopped);
      if (observer_.device_lost) observer_.device_lost(detail);
      return;
    case Event::kModuleBooted:
      if (state_ == State::kRebooting || state_ == State::kStopped || state_ == State::kStopping) break;
      // field-notes.md 1.6: RDY out of the blue is a module that reset itself (brown-out,
      // watchdog). Everything it knew is gone; so is whatever we were asking it.
      log_->warn("the module restarted by itself (RDY); bringing it up again");
      session_lost("the module restarted");
      channel_.module_restarted();
      info_.pdp_active = false;
      transition(State::kProbing);
      return;
    case Event::kChannelStuck:
      if (state_ == State::kStopped || state_ == State::kStopping) break;
      // The timeout that made the run long enough has already failed its step and started a
      // recovery: the same silence must not count as a second failed attempt.
      if (state_ == State::kWaiting) {
        log_->warn("the module does not answer ({})", detail);
        return;
      }
      log_->warn("the module does not answer ({}); if this persists it needs a power cycle", detail);
      session_lost("the module stopped answering");
      channel_.abort_all();
      recover(rung_, "the module does not answer AT commands");
      return;
    case Event::kPdpDeactivated:
      switch (state_) {
        case State::kCleaningUp:
        case State::kConfiguringMqtt:
        case State::kOpening:
        case State::kConnecting:
        case State::kSubscribing:
        case State::kReady:
          info_.pdp_active = false;
          session_lost("the network deactivated the PDP context");
          recover(Rung::kCyclePdp, "the network deactivated the PDP context (+QIURC: \"pdpdeact\")");
          return;
        default:
          info_.pdp_active = false;
          break;
      }
      break;
    case Event::kMqttClosed: {
      const int code = std::stoi(detail);
      info_.last_qmtstat = code;
      // Before our own +QMTOPEN succeeded, a +QMTSTAT is the late echo of an earlier close
      // (field-notes.md 2.3, EC200U): not news about this attempt.
      const bool ours = mqtt_opened_ && (state_ == State::kOpening || state_ == State::kConnecting ||
                                         state_ == State::kSubscribing || state_ == State::kReady);
      if (!ours) {
        log_->debug("ignoring +QMTSTAT: {},{} in state {} (stale)", config_.client_index, code,
                    to_string(state_));
        return;
      }
      log_->warn("MQTT connection closed: +QMTSTAT: {},{}: {}", config_.client_index, code,
                 q::describe_qmtstat(code));
      session_lost(q::describe_qmtstat(code));
      mqtt_opened_ = false;
      switch (code) {
        case 2:
          recover(Rung::kCyclePdp, "PINGREQ timed out");
          return;
        case 5:
          recover(Rung::kReopen, "the server closed the connection after our DISCONNECT", false);
          return;
        case 6:
        case 7:
          // "Make sure the link is alive": registration and the PDP context are looked at again
          // (queried, not cycled) before the reopen.
          info_.registration = 0;
          info_.pdp_active = false;
          recover(Rung::kReopen, q::describe_qmtstat(code));
          return;
        default:
          recover(Rung::kReopen, q::describe_qmtstat(code));
          return;
      }
    }
    default:
      consumed = false;
      return;
  }
  consumed = false;
}

void QuectelSession::handle(Event event, const std::string& detail) {
  switch (state_) {
    case State::kStopped:
      if (event == Event::kStart) transition(State::kProbing);
      return;
    case State::kProbing:
      if (event == Event::kStepsDone) return transition(State::kIdentifying);
      if (event == Event::kStepFailed) return recover(rung_, "the module does not answer: " + detail);
      return;
    case State::kIdentifying:
      if (event == Event::kStepsDone) return transition(State::kRegistering);
      if (event == Event::kStepFailed) {
        if (detail.starts_with("SIM")) {
          log_->error("{}", printable(detail, 200));
          return transition(State::kSimError);
        }
        return recover(rung_, detail);
      }
      return;
    case State::kSimError:
      if (event == Event::kTimer) transition(State::kIdentifying);
      return;
    case State::kRegistering:
      if (event == Event::kStepsDone) {
        if (q::is_registered(info_.registration)) return transition(State::kActivatingPdp);
        log_->info("waiting for network registration ({})", q::describe_registration(info_.registration));
        arm_timer(config_.registration_timeout);
        return;
      }
      if (event == Event::kRegistered) return transition(State::kActivatingPdp);
      if (event == Event::kTimer) {
        return recover(
            Rung::kCycleRadio,
            fmt::format(
                "not registered after {} s ({}); check the antenna, the SIM's data plan and "
                "network coverage",
                std::chrono::duration_cast<std::chrono::seconds>(config_.registration_timeout).count(),
                q::describe_registration(info_.registration)));
      }
      if (event == Event::kStepFailed) return recover(rung_, detail);
      return;
    case State::kActivatingPdp:
      if (event == Event::kStepsDone) {
        info_.pdp_active = true;
        if (observer_.info_changed) observer_.info_changed();
        return transition(State::kCleaningUp);
      }
      if (event == Event::kStepFailed) {
        return recover(Rung::kCyclePdp,
                       fmt::format("PDP context {} did not activate ({}); check the APN \"{}\"",
                                   config_.pdp.context_id, detail, config_.pdp.apn));
      }
      return;
    case State::kCleaningUp:
      if (event == Event::kStepsDone) transition(State::kConfiguringMqtt);
      return;
    case State::kConfiguringMqtt:
      if (event == Event::kStepsDone) return transition(State::kOpening);
      if (event == Event::kStepFailed) return recover(Rung::kReopen, "AT+QMTCFG failed: " + detail);
      return;
    case State::kOpening:
      if (event == Event::kStepsDone) {
        mqtt_opened_ = true;
        return transition(State::kConnecting);
      }
      if (event == Event::kStepFailed) {
        // detail: "open:<result>" for a +QMTOPEN result, else a channel failure.
        if (detail.starts_with("open:")) {
          const int result = std::stoi(detail.substr(5));
          const std::string why =
              fmt::format("+QMTOPEN: {},{}: {}", config_.client_index, result, q::describe_qmtopen(result));
          if (result == 3) return recover(Rung::kCyclePdp, why);
          if (result == 1)
            return recover(Rung::kReopen,
                           why + fmt::format(" (host \"{}\", port {})", config_.host, config_.port), false);
          return recover(Rung::kReopen, why);
        }
        return recover(Rung::kReopen, "AT+QMTOPEN: " + detail);
      }
      return;
    case State::kConnecting:
      if (event == Event::kStepsDone) return transition(State::kSubscribing);
      if (event == Event::kStepFailed) {
        if (detail.starts_with("refused:")) {
          const int code = std::stoi(detail.substr(8));
          ++connack_refusals_;
          const std::string why = fmt::format("the broker refused the connection: {} (CONNACK {})",
                                              q::describe_connack(code), code);
          if (connack_refusals_ >= 3) {
            log_->error("{}, {} times in a row: check client_id, username and password for {}:{}", why,
                        connack_refusals_, config_.host, config_.port);
          }
          // The link works and the server answers: climbing the ladder would not change its mind.
          return recover(Rung::kReopen, why, false);
        }
        return recover(Rung::kReopen, "AT+QMTCONN: " + detail);
      }
      return;
    case State::kSubscribing:
      if (event == Event::kStepsDone) return transition(State::kReady);
      if (event == Event::kStepFailed) {
        session_lost("subscribing failed");
        return recover(Rung::kReopen, "AT+QMTSUB: " + detail);
      }
      return;
    case State::kReady:
      return;
    case State::kWaiting:
      if (event == Event::kTimer) transition(resume_);
      return;
    case State::kCyclingPdp:
      if (event == Event::kStepsDone || event == Event::kStepFailed) {
        info_.pdp_active = false;
        transition(State::kActivatingPdp);
      }
      return;
    case State::kCyclingRadio:
      if (event == Event::kStepsDone) return transition(State::kRegistering);
      if (event == Event::kStepFailed) return recover(Rung::kReboot, "AT+CFUN: " + detail);
      return;
    case State::kRebooting:
      if (event == Event::kModuleBooted) {
        return transition(State::kProbing);
      }
      if (event == Event::kTimer) {
        log_->warn("no RDY within {} s of the reset; probing anyway",
                   std::chrono::duration_cast<std::chrono::seconds>(config_.boot_timeout).count());
        return transition(State::kProbing);
      }
      return;
    case State::kStopping:
      return;
  }
}

// ---- recovery ---------------------------------------------------------------------------------

State QuectelSession::entry_state(Rung rung) const {
  // Never resume past a stage that was not reached since the module last (re)started.
  if (info_.model.empty() && rung != Rung::kReboot) return State::kProbing;
  switch (rung) {
    case Rung::kReboot:
      return State::kRebooting;
    case Rung::kCycleRadio:
      return State::kCyclingRadio;
    case Rung::kCyclePdp:
      return State::kCyclingPdp;
    case Rung::kReopen:
      break;
  }
  if (!q::is_registered(info_.registration)) return State::kRegistering;
  if (!info_.pdp_active) return State::kActivatingPdp;
  return State::kCleaningUp;
}

void QuectelSession::recover(Rung at_least, const std::string& reason, bool counts) {
  ++stats_.recoveries;
  if (at_least > rung_) {
    rung_ = at_least;
    failures_at_rung_ = 0;
  }
  if (counts && ++failures_at_rung_ > config_.attempts_per_rung && rung_ != Rung::kReboot) {
    rung_ = static_cast<Rung>(static_cast<int>(rung_) + 1);
    failures_at_rung_ = 1;
  }
  resume_ = entry_state(rung_);
  const Duration wait = backoff_.next();
  log_->warn("{}; next: {} in {:.1f} s (attempt {} at this rung)", reason, to_string(rung_),
             std::chrono::duration<double>(wait).count(), failures_at_rung_);
  transition(State::kWaiting);
  arm_timer(wait);
}

void QuectelSession::session_lost(const std::string& why) {
  fail_all_in_flight(why);
  if (info_.connected_since) {
    info_.connected_since.reset();
    if (observer_.info_changed) observer_.info_changed();
  }
}

// ---- scripts ----------------------------------------------------------------------------------

void QuectelSession::run(std::vector<Step> steps) {
  run_step(std::move(steps), 0, generation_);
}

void QuectelSession::run_step(std::vector<Step> steps, std::size_t index, std::uint64_t generation) {
  if (generation != generation_) return;
  if (index >= steps.size()) return post(Event::kStepsDone);
  at::Command command = steps[index].command;
  channel_.submit(std::move(command),
                  [this, steps = std::move(steps), index, generation](const at::Result& result) mutable {
                    if (generation != generation_) return;  // from a state we have left
                    if (const auto failure = steps[index].check(result))
                      return post(Event::kStepFailed, *failure);
                    run_step(std::move(steps), index + 1, generation);
                  });
}

std::vector<QuectelSession::Step> QuectelSession::probing_script() {
  return {{q::probe(), require_ok}, {q::echo_off(), require_ok}, {q::numeric_errors(), ignore_result}};
}

std::vector<QuectelSession::Step> QuectelSession::identifying_script() {
  return {
      {q::identify(),
       [this](const at::Result& r) -> std::optional<std::string> {
         // ATI: "Quectel", "EC200U", "Revision: EC200UCNAAR02A05M08"
         if (r.ok() && r.lines.size() >= 2) {
           info_.manufacturer = r.lines[0];
           info_.model = r.lines[1];
           for (const auto& line : r.lines) {
             if (line.starts_with("Revision: ")) info_.revision = line.substr(10);
           }
         }
         if (info_.model.empty()) info_.model = "unknown module";
         return std::nullopt;
       }},
      {q::imei(),
       [this](const at::Result& r) -> std::optional<std::string> {
         if (r.ok()) info_.imei = first_line(r);
         return std::nullopt;
       }},
      {q::sim_status(),
       [this](const at::Result& r) -> std::optional<std::string> {
         if (r.code == at::ResultCode::kCmeError && q::cme_means_sim_missing(r.error_code)) {
           return "SIM not inserted or not detected: insert a SIM (power the gateway off first; most modules "
                  "detect a SIM only at power-on)";
         }
         if (!r.ok()) return "AT+CPIN? failed: " + at::describe(r);
         switch (q::parse_sim_status(first_line(r))) {
           case q::SimState::kReady:
             return std::nullopt;
           case q::SimState::kPinRequired:
             return "SIM wants a PIN: remove the PIN lock (put the SIM in a phone and disable it); cellmqttd "
                    "does "
                    "not enter PINs";
           case q::SimState::kPukRequired:
             return "SIM is PUK-locked: unlock it in a phone";
           case q::SimState::kNotInserted:
             return "SIM not inserted: insert a SIM and power-cycle the gateway";
           case q::SimState::kOther:
             return "SIM not ready (" + first_line(r) + ")";
         }
         return std::nullopt;
       }},
      {q::iccid(),
       [this](const at::Result& r) -> std::optional<std::string> {
         if (auto iccid = q::parse_iccid(first_line(r))) info_.iccid = *iccid;
         return std::nullopt;
       }},
      {q::imsi(),
       [this](const at::Result& r) -> std::optional<std::string> {
         if (r.ok()) info_.imsi = first_line(r);
         log_->info("module {} {} (revision {}), IMEI {}, ICCID {}", printable(info_.manufacturer),
                    printable(info_.model), printable(info_.revision), printable(info_.imei),
                    printable(info_.iccid));
         if (observer_.info_changed) observer_.info_changed();
         return std::nullopt;
       }},
  };
}

std::vector<QuectelSession::Step> QuectelSession::registering_script() {
  // Data needs the packet-switched registration (EPS, else GPRS); CS (+CREG) is only logged.
  auto record = [this](const at::Result& r) -> std::optional<std::string> {
    for (const auto& line : r.lines) {
      const auto status = q::parse_registration_read(line);
      if (!status || status->kind == q::Registration::kCs) continue;
      if (q::is_registered(status->stat) || !q::is_registered(info_.registration))
        info_.registration = status->stat;
    }
    return std::nullopt;
  };
  info_.registration = 0;
  return {
      {q::enable_registration_urcs(q::Registration::kCs), ignore_result},
      {q::enable_registration_urcs(q::Registration::kGprs), ignore_result},
      {q::enable_registration_urcs(q::Registration::kEps), ignore_result},
      {q::query_registration(q::Registration::kEps), record},
      {q::query_registration(q::Registration::kGprs), record},
  };
}

std::vector<QuectelSession::Step> QuectelSession::pdp_script() {
  const int cid = config_.pdp.context_id;
  return {
      {q::configure_pdp(config_.pdp), require_ok},
      // field-notes.md 1.1 and 2.4: AT+QIACT answers ERROR when the context is already active;
      // the AT+QIACT? that follows decides.
      {q::activate_pdp(cid), ignore_result},
      {q::query_pdp(),
       [this, cid](const at::Result& r) -> std::optional<std::string> {
         for (const auto& line : r.lines) {
           if (auto status = q::parse_qiact(line); status && status->context_id == cid && status->active) {
             info_.pdp_address = status->address;
             log_->info("PDP context {} active, address {}", cid, printable(status->address));
             return std::nullopt;
           }
         }
         return r.ok() ? std::string("the context is not active after AT+QIACT") : at::describe(r);
       }},
  };
}

std::vector<QuectelSession::Step> QuectelSession::cleanup_script() {
  // field-notes.md 2.4: "Always AT+QMTDISC=0 + AT+QMTCLOSE=0 first ... critical after modem
  // restart to clear old state". On a clean module both just answer ERROR.
  return {{q::mqtt_disconnect(config_.client_index), ignore_result},
          {q::mqtt_close(config_.client_index), ignore_result}};
}

std::vector<QuectelSession::Step> QuectelSession::mqtt_config_script() {
  const int c = config_.client_index;
  return {
      {q::mqtt_version(c, config_.protocol_version), require_ok},
      {q::mqtt_pdp_context(c, config_.pdp.context_id), require_ok},
      {q::mqtt_keepalive(c, config_.keepalive_s), require_ok},
      {q::mqtt_clean_session(c, config_.clean_session), require_ok},
      // Notices on: +QMTPUBEX: <idx>,<msgid>,1,<n> tells how often a publish was retransmitted.
      {q::mqtt_timeouts(c, config_.packet_timeout_s, config_.packet_retries, true), require_ok},
      {q::mqtt_will(c, config_.will), require_ok},
      // The payload length in every +QMTRECV makes received payloads binary-safe.
      {q::mqtt_receive_mode(c, config_.buffered_receive ? 1 : 0, true), require_ok},
  };
}

std::vector<QuectelSession::Step> QuectelSession::open_script() {
  return {{q::mqtt_open(config_.client_index, config_.host, config_.port),
           [](const at::Result& r) -> std::optional<std::string> {
             if (!r.ok() || !r.completion) return at::describe(r);
             const auto opened = q::parse_qmtopen(*r.completion);
             if (!opened) return "unreadable " + *r.completion;
             if (opened->result == 0) return std::nullopt;
             return fmt::format("open:{}", opened->result);
           }}};
}

std::string QuectelSession::expanded_client_id() const {
  std::string id = config_.client_id;
  for (const auto& [key, value] :
       {std::pair<std::string, std::string>{"{imei}", info_.imei}, {"{iccid}", info_.iccid}}) {
    for (auto at = id.find(key); at != std::string::npos; at = id.find(key))
      id.replace(at, key.size(), value);
  }
  return id;
}

std::vector<QuectelSession::Step> QuectelSession::connect_script() {
  const std::string client_id = expanded_client_id();
  if (const auto problem = q::check_quoted_argument(client_id, q::kMaxClientId)) {
    // Nothing the module could do about it: say so and keep failing at the bottom rung.
    return {{q::probe(), [problem, client_id](const at::Result&) -> std::optional<std::string> {
               return "client id \"" + client_id + "\" " + *problem;
             }}};
  }
  return {{q::mqtt_connect(config_.client_index, client_id, config_.username, config_.password),
           [](const at::Result& r) -> std::optional<std::string> {
             if (!r.ok() || !r.completion) return at::describe(r);
             const auto conn = q::parse_qmtconn(*r.completion);
             if (!conn) return "unreadable " + *r.completion;
             if (conn->result != 0)
               return fmt::format("+QMTCONN result {} (CONNECT not acknowledged)", conn->result);
             if (conn->return_code && *conn->return_code != 0)
               return fmt::format("refused:{}", *conn->return_code);
             return std::nullopt;
           }}};
}

std::vector<QuectelSession::Step> QuectelSession::subscribe_script() {
  std::vector<Step> steps;
  for (const auto& subscription : config_.subscriptions) {
    // Not a structured binding: a lambda may capture one only from C++20 on, which clang 14 lacks.
    const std::string& filter = subscription.first;
    if (++subscribe_msgid_ > 65535) subscribe_msgid_ = 1;
    steps.push_back({q::mqtt_subscribe(config_.client_index, subscribe_msgid_, {subscription}),
                     [this, filter](const at::Result& r) -> std::optional<std::string> {
                       if (!r.ok() || !r.completion) return at::describe(r);
                       const auto result = q::parse_packet_result(*r.completion);
                       if (!result || result->result != 0) return "subscribing to \"" + filter + "\" failed";
                       if (!result->values.empty() && result->values.front() == 128) {
                         // The broker said no (ACL). Reconnecting would not change that.
                         log_->error("the broker refused the subscription to \"{}\" (check its ACL)", filter);
                       }
                       return std::nullopt;
                     }});
  }
  return steps;
}

void QuectelSession::query_health() {
  const auto generation = generation_;
  channel_.submit(q::signal_quality(),
                  [this](const at::Result& r) { info_.rssi_dbm = q::parse_csq_dbm(first_line(r)); });
  channel_.submit(q::operator_name(), [this](const at::Result& r) {
    if (auto op = q::parse_cops(first_line(r))) info_.operator_name = op->name;
  });
  channel_.submit(q::network_info(), [this](const at::Result& r) {
    if (auto net = q::parse_qnwinfo(first_line(r))) {
      info_.access_technology = net->access_technology;
      info_.band = net->band;
    }
    if (observer_.info_changed) observer_.info_changed();
  });
  health_timer_ = loop_.call_after(config_.health_interval, [this, generation] {
    health_timer_.reset();
    if (generation == generation_ && state_ == State::kReady) query_health();
  });
}

// ---- URCs -------------------------------------------------------------------------------------

void QuectelSession::register_urcs() {
  channel_.add_line_reader(std::string(kRecvPrefix), [this](std::string_view first_segment, char line_break) {
    return q::qmtrecv_line_ends(first_segment, line_break, recv_framing_);
  });
  channel_.on_unframeable([this](std::string_view prefix, std::size_t bytes) {
    if (prefix == kRecvPrefix)
      refuse_message(fmt::format("{} bytes could not be framed with certainty (dropped)", bytes), prefix);
  });
  auto add = [this](const char* prefix, at::UrcRegistry::Handler handler) {
    urc_handlers_.push_back(channel_.urcs().add(prefix, std::move(handler)));
  };
  add("RDY", [this](std::string_view) { post(Event::kModuleBooted); });
  add("+QMTSTAT:", [this](std::string_view line) {
    if (auto status = q::parse_qmtstat(line); status && status->client == config_.client_index) {
      post(Event::kMqttClosed, std::to_string(status->code));
    }
  });
  add("+QIURC: \"pdpdeact\"", [this](std::string_view line) {
    if (auto cid = q::parse_pdp_deactivated(line); cid && *cid == config_.pdp.context_id)
      post(Event::kPdpDeactivated);
  });
  for (const auto kind : {q::Registration::kCs, q::Registration::kGprs, q::Registration::kEps}) {
    add(q::prefix(kind), [this](std::string_view line) {
      const auto status = q::parse_registration_urc(line);
      if (!status) return;
      if (status->kind != q::Registration::kCs) info_.registration = status->stat;
      if (observer_.info_changed) observer_.info_changed();
      if (q::is_registered(status->stat)) post(Event::kRegistered);
    });
  }
  add("+QMTRECV:", [this](std::string_view line) { on_qmtrecv(line); });
  add("+QMTPUBEX:", [this](std::string_view line) { on_packet_progress(line); });
  add("+QMTPING:",
      [this](std::string_view line) { log_->warn("keep-alive ping failed ({})", printable(line)); });
}

void QuectelSession::on_qmtrecv(std::string_view line) {
  const auto parsed = q::parse_qmtrecv(line, recv_framing_);
  if (!parsed) return refuse_message("the module's line is unreadable", line);
  if (const auto* message = std::get_if<q::ReceivedMessage>(&*parsed)) {
    if (message->client != config_.client_index) return;
    if (const auto why = check_received_topic(message->topic)) return refuse_message(*why, line);
    if (!message->with_length && recv_framing_ == q::RecvFraming::kWithLength &&
        message->topic.find('"') == std::string::npos) {
      // Only firmware that ignores <msg_len_enable> writes this (a topic without quotes leaves
      // the length field nowhere to hide): from now on no line is read by a length field, or a
      // topic holding one could be taken for it (README, "Messages from upstream cannot forge
      // module lines").
      recv_framing_ = q::RecvFraming::kWithoutLength;
      log_->warn(
          "the module writes received messages without their length although AT+QMTCFG=\"recv/mode\" "
          "asked for it (firmware {}): reading them without one from now on",
          printable(info_.revision));
    }
    ++stats_.messages_received;
    if (observer_.message)
      observer_.message(InboundMessage{message->topic, message->payload, message->msgid});
  } else if (const auto* ambiguous = std::get_if<q::AmbiguousMessage>(&*parsed)) {
    if (ambiguous->client != config_.client_index) return;
    refuse_message(fmt::format("{} different topic/payload splits fit it (its topic or payload holds what "
                               "reads as a length field)",
                               ambiguous->readings),
                   line);
  } else if (const auto* buffered = std::get_if<q::BufferedMessage>(&*parsed)) {
    if (buffered->client != config_.client_index) return;
    // Only in recv/mode 1 does the module keep messages for AT+QMTRECV. Otherwise such a notice is
    // not the module's: reading on it would only queue commands (a flood of them grew the daemon
    // to 85 MB).
    if (!config_.buffered_receive || buffered->recv_id >= kReceiveSlots) return;
    read_buffered(buffered->recv_id);
  }
}

void QuectelSession::read_buffered(int recv_id) {
  // One read per slot at a time: notices repeated before it is answered add nothing.
  if (!buffered_reads_.insert(recv_id).second) return;
  channel_.submit(q::mqtt_read_buffered(config_.client_index, recv_id), [this, recv_id](const at::Result& r) {
    buffered_reads_.erase(recv_id);
    // The message comes back as this read's answer (a notice for the emptied slot may be among
    // the lines, and reads it again).
    for (const auto& l : r.lines)
      on_qmtrecv(l);
  });
}

void QuectelSession::refuse_message(std::string_view why, std::string_view line) {
  ++stats_.messages_refused;
  if (observer_.message_refused) observer_.message_refused();
  if (refused_log_.allow()) {
    log_->warn("refused a message from the broker: {} ({} refused in all): {}", why, stats_.messages_refused,
               printable(line, 120));
  }
}

void QuectelSession::on_packet_progress(std::string_view line) {
  const auto result = q::parse_packet_result(line);
  if (!result || result->client != config_.client_index) return;
  if (result->result != 1) {
    // An outcome nobody waits for. Before this session has published anything it can only be a
    // publish a previous run left in the module's data phase (it died between AT+QMTPUBEX and
    // the payload): the module took our first bytes (AT probes) as that payload and sent them.
    if (stats_.publishes_accepted == 0) {
      log_->warn(
          "the module completed a publish (msgid {}) that this run never made: a previous run died while the "
          "module waited for its payload, and the module published the bytes that came next (AT probes) in "
          "its place",
          result->msgid);
    }
    return;
  }
  auto it = in_flight_.find(result->msgid);
  if (it == in_flight_.end()) return;
  it->second.retransmissions =
      result->values.empty() ? it->second.retransmissions + 1 : result->values.front();
  ++stats_.retransmissions;
  log_->debug("publish {} retransmitted ({} so far)", result->msgid, it->second.retransmissions);
}

void QuectelSession::set_subscriptions(std::vector<std::pair<std::string, int>> filters) {
  if (state_ == State::kReady) {
    std::vector<std::string> removed;
    for (const auto& subscription : config_.subscriptions) {
      const std::string& filter = subscription.first;
      const bool kept =
          std::any_of(filters.begin(), filters.end(), [&](const auto& f) { return f.first == filter; });
      if (!kept) removed.push_back(filter);
    }
    if (!removed.empty()) {
      if (++subscribe_msgid_ > 65535) subscribe_msgid_ = 1;
      channel_.submit(q::mqtt_unsubscribe(config_.client_index, subscribe_msgid_, removed),
                      [this](const at::Result& r) {
                        if (!r.ok()) log_->warn("unsubscribing after a reload failed: {}", at::describe(r));
                      });
    }
    for (const auto& entry : filters) {
      if (std::find(config_.subscriptions.begin(), config_.subscriptions.end(), entry) !=
          config_.subscriptions.end()) {
        continue;
      }
      if (++subscribe_msgid_ > 65535) subscribe_msgid_ = 1;
      channel_.submit(q::mqtt_subscribe(config_.client_index, subscribe_msgid_, {entry}),
                      [this, filter = entry.first](const at::Result& r) {
                        if (!r.ok())
                          log_->warn("subscribing to \"{}\" after a reload failed: {}", filter,
                                     at::describe(r));
                      });
    }
  }
  config_.subscriptions = std::move(filters);
}

// ---- publishing -------------------------------------------------------------------------------

std::size_t QuectelSession::publish_slots() const {
  if (state_ != State::kReady) return 0;
  return in_flight_.size() >= q::kInFlightWindow ? 0 : q::kInFlightWindow - in_flight_.size();
}

int QuectelSession::next_msgid() {
  // 1..65535, never one still in flight; moving on (not reusing the lowest free id) keeps a late
  // +QMTPUBEX for an abandoned publish from being taken for a new one.
  do {
    last_msgid_ = last_msgid_ >= 65535 ? 1 : last_msgid_ + 1;
  } while (in_flight_.contains(last_msgid_));
  return last_msgid_;
}

Admission QuectelSession::publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                                  PublishCallback callback, std::string* reason) {
  auto reject = [&](std::string why) {
    ++stats_.publishes_rejected;
    log_->warn("refused to publish to \"{}\": {}", printable(topic, 80), why);
    if (reason != nullptr) *reason = std::move(why);
    return Admission::kRejected;
  };
  if (qos < 0 || qos > 2) return reject(fmt::format("QoS {} does not exist", qos));
  if (const auto problem = q::check_publish_topic(topic)) return reject("the topic " + *problem);
  if (payload.size() > q::kMaxPublishPayload) {
    return reject(fmt::format("the payload of {} bytes is over the module's limit of {} bytes",
                              payload.size(), q::kMaxPublishPayload));
  }
  if (publish_slots() == 0) return Admission::kBusy;

  const int msgid = qos > 0 ? next_msgid() : 0;
  const int key = qos > 0 ? msgid : -(++qos0_serial_ % 1'000'000'000) - 1;
  at::Command command = q::mqtt_publish(config_.client_index, msgid, qos, retain, topic, payload);
  // +QMTPUBEX: <idx>,<msgid>,1,<n> reports a retransmission, not the outcome.
  auto matches = command.completion->matches;
  command.completion->matches = [matches](std::string_view line) {
    if (matches && !matches(line)) return false;
    const auto result = q::parse_packet_result(line);
    return !result || result->result != 1;
  };
  in_flight_.emplace(key, InFlight{qos, std::move(callback), 0});
  ++stats_.publishes_accepted;
  channel_.submit(std::move(command), [this, key](const at::Result& r) {
    if (!in_flight_.contains(key)) return;  // already failed with the session
    PublishOutcome outcome;
    outcome.status = PublishStatus::kFailed;
    if (r.ok() && r.completion) {
      const auto result = q::parse_packet_result(*r.completion);
      if (result && result->result == 0) {
        outcome.status = PublishStatus::kDelivered;
      } else {
        outcome.reason = "the module gave up after its retransmissions";
      }
    } else {
      outcome.reason = at::describe(r);
    }
    finish_publish(key, outcome);
  });
  return Admission::kAccepted;
}

void QuectelSession::finish_publish(int key, PublishOutcome outcome) {
  auto it = in_flight_.find(key);
  if (it == in_flight_.end()) return;
  InFlight done = std::move(it->second);
  in_flight_.erase(it);
  outcome.retransmissions = done.retransmissions;
  if (outcome.status == PublishStatus::kDelivered) {
    ++stats_.publishes_delivered;
  } else {
    ++stats_.publishes_failed;
  }
  if (done.callback) done.callback(outcome);
}

void QuectelSession::fail_all_in_flight(const std::string& reason) {
  std::vector<int> keys;
  for (const auto& [key, entry] : in_flight_)
    keys.push_back(key);
  for (int key : keys)
    finish_publish(key, PublishOutcome{PublishStatus::kFailed, 0, reason});
  // Nobody will acknowledge these any more; a late +QMTPUBEX must not complete a new publish.
  channel_.cancel_completions("+QMTPUBEX:");
}

}  // namespace modem::session
