#include "modem/session/mqtt_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "modem/gpp/gpp.hpp"
#include "modem/gpp/gpp_clock.hpp"
#include "modem/log.hpp"
#include "modem/session/dialects.hpp"
#include "modem/session/steps.hpp"

namespace modem::session {

MqttSession::MqttSession(at::Channel& channel, EventLoop& loop, SessionConfig config,
                         SessionObserver observer)
    : MqttSession(channel, loop, config, std::move(observer),
                  make_dialect(initial_dialect(config.model, config.model_hint))) {
  detects_dialect_ = canonical_model(config_.model) == "auto";
}

MqttSession::MqttSession(at::Channel& channel, EventLoop& loop, SessionConfig config,
                         SessionObserver observer, std::unique_ptr<Dialect> dialect)
    : channel_(channel),
      loop_(loop),
      config_(std::move(config)),
      observer_(std::move(observer)),
      log_(logger("session")),
      dialect_(std::move(dialect)),
      detects_dialect_(false),
      backoff_(config_.backoff),
      refused_log_(loop, [this](std::uint64_t more) {
        log_->warn("refused {} more message(s) from the broker ({} refused in all)", more,
                   stats_.messages_refused);
      }) {
  info_.family = std::string(dialect_->family());
  if (config_.tls.enabled) info_.tls.emplace();
}

MqttSession::~MqttSession() {
  link_.reset();
  for (auto id : urc_handlers_)
    channel_.urcs().remove(id);
  for (auto timer : {state_timer_, health_timer_, stable_timer_}) {
    if (timer) loop_.cancel(*timer);
  }
  channel_.on_timeout(nullptr);
  channel_.on_closed(nullptr);
}

bool MqttSession::start() {
  const auto problems = check_session_config(config_, *dialect_);
  for (const auto& problem : problems)
    log_->error("configuration: {}", problem);
  if (!problems.empty()) return false;
  // Whatever echo or late answer carries them, these never reach a log line.
  if (config_.password) channel_.add_secret(*config_.password);
  channel_.add_secret(config_.pdp.password);
  register_urcs();
  link_ = dialect_->install(channel_, config_, dialect_events());
  channel_.on_timeout([this](unsigned consecutive) {
    if (consecutive >= config_.mute_timeouts)
      post(Event::kChannelStuck, fmt::format("{} AT timeouts in a row", consecutive));
  });
  channel_.on_closed([this](const std::string& why) { post(Event::kChannelClosed, why); });
  post(Event::kStart);
  return true;
}

void MqttSession::stop(std::function<void()> done) {
  stopped_ = std::move(done);
  post(Event::kStop);
}

std::optional<std::string> MqttSession::check_publish(std::string_view topic,
                                                      std::size_t payload_size) const {
  return dialect_->check_publish(topic, payload_size);
}

// ---- the state machine ------------------------------------------------------------------------

void MqttSession::post(Event event, const std::string& detail) {
  log_->debug("[{}] event {}{}{}", to_string(state_), to_string(event), detail.empty() ? "" : ": ", detail);
  if (!handle_in_any_state(event, detail)) handle(event, detail);
}

void MqttSession::fail(Failure failure) {
  failure_ = std::move(failure);
  post(Event::kStepFailed, failure_->text);
}

void MqttSession::transition(State next) {
  const State previous = state_;
  leave(previous);
  ++generation_;
  state_ = next;
  log_->info("{} -> {}", to_string(previous), to_string(next));
  if (observer_.state_changed) observer_.state_changed(next);
  enter(next);
}

void MqttSession::arm_timer(Duration delay) {
  if (state_timer_) loop_.cancel(*state_timer_);
  const auto generation = generation_;
  state_timer_ = loop_.call_after(delay, [this, generation] {
    state_timer_.reset();
    if (generation == generation_) post(Event::kTimer);
  });
}

void MqttSession::leave(State state) {
  for (auto* timer : {&state_timer_, &poll_timer_}) {
    if (*timer) loop_.cancel(**timer);
    timer->reset();
  }
  if (state == State::kReady) {
    for (auto* timer : {&health_timer_, &stable_timer_}) {
      if (*timer) loop_.cancel(**timer);
      timer->reset();
    }
  }
}

void MqttSession::enter(State state) {
  switch (state) {
    case State::kStopped:
      if (stopped_) std::exchange(stopped_, nullptr)();
      break;
    case State::kProbing:
      run(probing_script());
      break;
    case State::kIdentifying:
      identify_step_ = IdentifyStep::kAti;
      run(identifying_script());
      break;
    case State::kSimError:
      arm_timer(backoff_.next());
      break;
    case State::kRegistering:
      run(registering_script());
      break;
    case State::kActivatingPdp:
      run(dialect_->attach(config_));
      break;
    case State::kCleaningUp:
      mqtt_opened_ = false;
      run(dialect_->cleanup(config_));
      break;
    case State::kSecuring:
      run(dialect_->secure(config_));
      break;
    case State::kConfiguringMqtt:
      run(dialect_->configure(config_));
      break;
    case State::kOpening:
      run(dialect_->open(config_));
      break;
    case State::kConnecting: {
      const std::string client_id = expand_client_id(config_.client_id, info_.imei, info_.iccid);
      if (const auto problem = dialect_->check_setting(Setting::kClientId, client_id)) {
        // Nothing the module could do about it: say so, and keep failing at the bottom rung.
        Failure f;
        f.kind = Failure::Kind::kBadSetting;
        f.text = "client id \"" + printable(client_id) + "\" " + *problem;
        f.counts = false;
        fail(std::move(f));
        break;
      }
      run(dialect_->connect(config_, client_id));
      break;
    }
    case State::kSubscribing: {
      Script steps;
      for (const auto& [filter, qos] : config_.subscriptions)
        steps.push_back(dialect_->subscribe(config_, next_subscribe_msgid(), filter, qos));
      info_.refused_filters.clear();
      run(std::move(steps));
      break;
    }
    case State::kReady: {
      ++stats_.sessions;
      connack_refusals_ = 0;
      info_.connected_since = loop_.clock().now();
      if (info_.tls) info_.tls->last_error.clear();
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
      run(dialect_->detach(config_));
      break;
    case State::kCyclingRadio:
      run({required(gpp::set_functionality(0)), required(gpp::set_functionality(1))});
      break;
    case State::kRebooting:
      channel_.submit(gpp::reset_module(), [](const at::Result&) {});
      arm_timer(config_.boot_timeout);
      break;
    case State::kStopping: {
      const auto generation = generation_;
      channel_.submit(dialect_->disconnect(config_), [this, generation](const at::Result&) {
        if (generation == generation_) transition(State::kStopped);
      });
      break;
    }
  }
}

bool MqttSession::handle_in_any_state(Event event, const std::string& detail) {
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
      return true;
    case Event::kChannelClosed:
      fail_all_in_flight("the module's serial device went away");
      if (state_ != State::kStopped) transition(State::kStopped);
      if (observer_.device_lost) observer_.device_lost(detail);
      return true;
    case Event::kModuleBooted:
      if (state_ == State::kRebooting || state_ == State::kStopped || state_ == State::kStopping)
        return false;
      // field-notes.md 1.6: a boot announcement out of the blue is a module that reset itself
      // (brown-out, watchdog). Everything it knew is gone; so is whatever we were asking it.
      log_->warn("the module restarted by itself; bringing it up again");
      session_lost("the module restarted");
      channel_.module_restarted();
      info_.pdp_active = false;
      transition(State::kProbing);
      return true;
    case Event::kChannelStuck:
      if (state_ == State::kStopped || state_ == State::kStopping) return false;
      // The timeout that made the run long enough has already failed its step and started a
      // recovery: the same silence must not count as a second failed attempt.
      if (state_ == State::kWaiting) {
        log_->warn("the module does not answer ({})", detail);
        return true;
      }
      log_->warn("the module does not answer ({}); if this persists it needs a power cycle", detail);
      session_lost("the module stopped answering");
      recover(rung_, "the module does not answer AT commands");
      // After recover(): the commands aborted here belong to the state just left, so their
      // failures are ignored instead of counting the same silence as a second failed attempt.
      channel_.abort_all();
      return true;
    case Event::kPdpDeactivated:
      info_.pdp_active = false;
      if (!past_the_data_connection()) return false;
      session_lost("the network deactivated the PDP context");
      recover(Rung::kCyclePdp, "the network deactivated the PDP context");
      return true;
    default:
      return false;
  }
}

void MqttSession::handle(Event event, const std::string&) {
  // kStepFailed comes with the Failure of the step (fail()).
  const Failure failure = event == Event::kStepFailed && failure_ ? *failure_ : Failure{};
  switch (state_) {
    case State::kStopped:
      if (event == Event::kStart) transition(State::kProbing);
      return;
    case State::kProbing:
      if (event == Event::kStepsDone) return transition(State::kIdentifying);
      if (event == Event::kStepFailed) return recover(rung_, "the module does not answer: " + failure.text);
      return;
    case State::kIdentifying:
      if (event == Event::kStepsDone) {
        if (identify_step_ == IdentifyStep::kAti && detects_dialect_ && !module_known()) {
          // ATI's words are not ones the driver table knows (not every family answers ATI the
          // Quectel way): ask the 27.007 way too before deciding.
          identify_step_ = IdentifyStep::kStandardIds;
          return run(standard_ids_script());
        }
        if (identify_step_ != IdentifyStep::kDialect) {
          // The module has said what it is, so its dialect can identify the rest.
          identify_step_ = IdentifyStep::kDialect;
          choose_dialect();
          return run(dialect_->identify());
        }
        identified();
        return transition(State::kRegistering);
      }
      if (event == Event::kStepFailed) {
        if (is_sim_failure(failure.kind)) {
          log_->error("{}", printable(failure.text, 200));
          return transition(State::kSimError);
        }
        return recover(rung_, failure.text);
      }
      return;
    case State::kSimError:
      if (event == Event::kTimer) transition(State::kIdentifying);
      return;
    case State::kRegistering:
      if (event == Event::kStepsDone) {
        if (gpp::is_registered(info_.registration)) return transition(State::kActivatingPdp);
        log_->info("waiting for network registration ({})", gpp::describe_registration(info_.registration));
        arm_timer(config_.registration_timeout);
        poll_registration(kRegistrationPollFirst);
        return;
      }
      if (event == Event::kRegistered) return transition(State::kActivatingPdp);
      if (event == Event::kTimer) {
        return recover(
            Rung::kCycleRadio,
            fmt::format(
                "not registered after {} s ({}); check the antenna, the SIM's data plan and network coverage",
                std::chrono::duration_cast<std::chrono::seconds>(config_.registration_timeout).count(),
                gpp::describe_registration(info_.registration)));
      }
      if (event == Event::kStepFailed) return recover(rung_, failure.text);
      return;
    case State::kActivatingPdp:
      if (event == Event::kStepsDone) {
        info_.pdp_active = true;
        log_->info("PDP context {} active, address {}", config_.pdp.context_id, printable(info_.pdp_address));
        if (observer_.info_changed) observer_.info_changed();
        return transition(State::kCleaningUp);
      }
      if (event == Event::kStepFailed) {
        return recover(Rung::kCyclePdp,
                       fmt::format("PDP context {} did not activate ({}); check the APN \"{}\"",
                                   config_.pdp.context_id, failure.text, config_.pdp.apn));
      }
      return;
    case State::kCleaningUp:
      if (event == Event::kStepsDone)
        transition(config_.tls.enabled ? State::kSecuring : State::kConfiguringMqtt);
      return;
    case State::kSecuring:
      if (event == Event::kStepsDone) {
        log_tls_ready();
        return transition(State::kConfiguringMqtt);
      }
      if (event == Event::kStepFailed) {
        note_tls_failure(failure);
        return recover(failure.rung, failure.text, failure.counts);
      }
      return;
    case State::kConfiguringMqtt:
      if (event == Event::kStepsDone) return transition(State::kOpening);
      if (event == Event::kStepFailed) return recover(failure.rung, failure.text, failure.counts);
      return;
    case State::kOpening:
      if (event == Event::kStepsDone) {
        mqtt_opened_ = true;
        return transition(State::kConnecting);
      }
      if (event == Event::kStepFailed) {
        note_tls_failure(failure);
        return recover(failure.rung, failure.text, failure.counts);
      }
      return;
    case State::kConnecting:
      if (event == Event::kStepsDone) return transition(State::kSubscribing);
      if (event == Event::kStepFailed) {
        if (failure.kind == Failure::Kind::kConnectRefused) {
          ++connack_refusals_;
          if (connack_refusals_ >= 3) {
            log_->error("{}, {} times in a row: check client_id, username and password for {}:{}",
                        failure.text, connack_refusals_, config_.host, config_.port);
          }
        }
        return recover(failure.rung, failure.text, failure.counts);
      }
      return;
    case State::kSubscribing:
      if (event == Event::kStepsDone) {
        for (const std::string& filter : info_.refused_filters)
          log_->error("the broker refused the subscription to \"{}\" (check its ACL)", printable(filter));
        return transition(State::kReady);
      }
      if (event == Event::kStepFailed) {
        session_lost("subscribing failed");
        return recover(Rung::kReopen, failure.text);
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
      if (event == Event::kStepFailed) return recover(Rung::kReboot, failure.text);
      return;
    case State::kRebooting:
      if (event == Event::kModuleBooted) return transition(State::kProbing);
      if (event == Event::kTimer) {
        log_->warn("the module did not announce its restart within {} s of the reset; probing anyway",
                   std::chrono::duration_cast<std::chrono::seconds>(config_.boot_timeout).count());
        return transition(State::kProbing);
      }
      return;
    case State::kStopping:
      return;
  }
}

// ---- recovery ---------------------------------------------------------------------------------

State MqttSession::entry_state(Rung rung) const {
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
  if (!gpp::is_registered(info_.registration)) return State::kRegistering;
  if (!info_.pdp_active) return State::kActivatingPdp;
  return State::kCleaningUp;
}

void MqttSession::recover(Rung at_least, const std::string& reason, bool counts) {
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

void MqttSession::session_lost(const std::string& why) {
  fail_all_in_flight(why);
  if (info_.connected_since) {
    info_.connected_since.reset();
    if (observer_.info_changed) observer_.info_changed();
  }
}

void MqttSession::session_closed(const SessionClosed& closed) {
  log_->debug("[{}] event {}: code {}", to_string(state_), to_string(Event::kMqttClosed), closed.code);
  info_.last_close = ModuleInfo::Close{closed.code, closed.meaning};
  // Before our own open succeeded, a close report is the late echo of an earlier close
  // (field-notes.md 2.3, EC200U): not news about this attempt.
  const bool ours = mqtt_opened_ && (state_ == State::kOpening || state_ == State::kConnecting ||
                                     state_ == State::kSubscribing || state_ == State::kReady);
  if (!ours) {
    log_->debug("ignoring a close report (code {}) in state {} (stale)", closed.code, to_string(state_));
    return;
  }
  log_->warn("MQTT connection closed (code {}): {}", closed.code, closed.meaning);
  session_lost(closed.meaning);
  mqtt_opened_ = false;
  if (closed.recheck_link) {
    info_.registration = 0;
    info_.pdp_active = false;
  }
  recover(closed.rung, closed.meaning, closed.counts);
}

// ---- scripts ----------------------------------------------------------------------------------

void MqttSession::run(Script steps) {
  run_step(std::make_shared<Script>(std::move(steps)), 0, generation_);
}

void MqttSession::run_step(std::shared_ptr<Script> steps, std::size_t index, std::uint64_t generation) {
  if (generation != generation_) return;
  if (index >= steps->size()) return post(Event::kStepsDone);
  channel_.submit((*steps)[index].command, [this, steps, index, generation](const at::Result& result) {
    if (generation != generation_) return;  // from a state we have left
    const Step& step = (*steps)[index];
    if (auto failure = step.check(result, info_)) return fail(std::move(*failure));
    if (step.then) {
      Script next = step.then(info_);
      steps->insert(steps->begin() + static_cast<std::ptrdiff_t>(index) + 1,
                    std::make_move_iterator(next.begin()), std::make_move_iterator(next.end()));
    }
    run_step(steps, index + 1, generation);
  });
}

Script MqttSession::probing_script() {
  return {required(gpp::probe()), required(gpp::echo_off()), optional_step(gpp::numeric_errors())};
}

// ATI first, on every module: its answer says which dialect identifies the rest (dialects.hpp).
Script MqttSession::identifying_script() {
  return {{gpp::identify(), [](const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
             if (r.ok()) {
               const gpp::Identity id = gpp::parse_identity(r.lines);
               info.manufacturer = id.manufacturer;
               info.model = id.model;
               info.revision = id.revision;
             }
             if (info.model.empty()) info.model = "unknown module";
             return std::nullopt;
           }}};
}

Script MqttSession::standard_ids_script() {
  // Each fills in only what ATI left out or left unreadable; a module without them loses nothing.
  auto fill = [](std::string ModuleInfo::*field) {
    return [field](const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
      const std::string line = gpp::parse_identity_line(first_line(r));
      if (r.ok() && !line.empty()) info.*field = line;
      return std::nullopt;
    };
  };
  return {{gpp::manufacturer(), fill(&ModuleInfo::manufacturer)}, {gpp::model(), fill(&ModuleInfo::model)}};
}

bool MqttSession::module_known() const {
  return detect_dialect({info_.manufacturer, info_.model, info_.revision}, {}).has_value();
}

void MqttSession::choose_dialect() {
  if (!detects_dialect_) return;
  const gpp::Identity identity{info_.manufacturer, info_.model, info_.revision};
  const auto detected = detect_dialect(identity, config_.model_hint);
  if (!detected) {
    if (!std::exchange(unknown_module_logged_, true)) {
      log_->warn(
          "the module says it is \"{} {}\" (revision {}), which this release does not know; driving it as {} "
          "({}). "
          "If it does not work, set [modem] model to one of: {}",
          printable(info_.manufacturer), printable(info_.model), printable(info_.revision), dialect_->name(),
          dialect_->family(), fmt::join(dialect_names(), ", "));
    }
    return;
  }
  if (*detected == dialect_->name()) return;
  log_->info("the module is a {}: using the {} dialect", printable(info_.model), *detected);
  link_.reset();  // its URC handlers go before the next dialect's come
  dialect_ = make_dialect(*detected);
  info_.family = std::string(dialect_->family());
  for (const auto& problem : check_session_config(config_, *dialect_))
    log_->error("configuration: {} (with the {} dialect)", problem, dialect_->name());
  link_ = dialect_->install(channel_, config_, dialect_events());
}

void MqttSession::identified() {
  log_->info("module {} {} (revision {}), IMEI {}, ICCID {}", printable(info_.manufacturer),
             printable(info_.model), printable(info_.revision), printable(info_.imei),
             printable(info_.iccid));
  if (observer_.info_changed) observer_.info_changed();
}

namespace {

// An answer to AT+CxREG? into ModuleInfo::registration: a packet-switched registration wins over
// one that is not (two queries, EPS and GPRS, may disagree).
std::optional<Failure> record_registration(const at::Result& r, ModuleInfo& info) {
  for (const auto& line : r.lines) {
    const auto status = gpp::parse_registration_read(line);
    if (!status || status->kind == gpp::Registration::kCs) continue;
    if (gpp::is_registered(status->stat) || !gpp::is_registered(info.registration))
      info.registration = status->stat;
  }
  return std::nullopt;
}

}  // namespace

Script MqttSession::registering_script() {
  // Data needs the packet-switched registration (the dialect says which: EPS, else GPRS); +CREG
  // (circuit-switched) is enabled too, for the log.
  const auto record = &record_registration;
  info_.registration = 0;
  Script steps = {optional_step(gpp::enable_registration_urcs(gpp::Registration::kCs))};
  for (const auto kind : {gpp::Registration::kGprs, gpp::Registration::kEps}) {
    const auto& kinds = dialect_->caps().registrations;
    if (std::find(kinds.begin(), kinds.end(), kind) != kinds.end())
      steps.push_back(optional_step(gpp::enable_registration_urcs(kind)));
  }
  for (const auto kind : dialect_->caps().registrations)
    steps.push_back({gpp::query_registration(kind), record});
  return steps;
}

// Waiting to be registered, the session does not rely on the +CxREG URC alone: a module may lose
// it or send it to another port (field-notes.md 2.5), and the 120 s timeout would then cycle a
// radio that was registered all along. Zephyr's modem_cellular polls in its await-registered state
// for the same reason. AT+CxREG? costs serial bytes only; the period starts short and backs off.
void MqttSession::poll_registration(Duration wait) {
  const auto generation = generation_;
  poll_timer_ = loop_.call_after(wait, [this, generation, wait] {
    poll_timer_.reset();
    if (generation != generation_ || state_ != State::kRegistering) return;
    const auto& kinds = dialect_->caps().registrations;
    auto left = std::make_shared<std::size_t>(kinds.size());
    for (const auto kind : kinds) {
      channel_.submit(gpp::query_registration(kind), [this, generation, left, wait](const at::Result& r) {
        if (generation != generation_) return;
        record_registration(r, info_);
        if (--*left > 0) return;
        if (gpp::is_registered(info_.registration)) {
          log_->info("registered ({}), found by polling: the registration URC did not come",
                     gpp::describe_registration(info_.registration));
          return post(Event::kRegistered);
        }
        poll_registration(std::min<Duration>(wait * 2, kRegistrationPollMax));
      });
    }
  });
}

void MqttSession::query_health() {
  const auto generation = generation_;
  Script steps = dialect_->health();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const bool last = i + 1 == steps.size();
    channel_.submit(steps[i].command, [this, check = steps[i].check, last](const at::Result& r) {
      (void)check(r, info_);
      if (last && observer_.info_changed) observer_.info_changed();
    });
  }
  // A quiet link whose close report was lost is found here, within one health interval.
  check_connection();
  health_timer_ = loop_.call_after(config_.health_interval, [this, generation] {
    health_timer_.reset();
    if (generation == generation_ && state_ == State::kReady) query_health();
  });
}

// Issue 14: no close report is load-bearing. The module may lose +QMTSTAT (or send it to another
// port, field-notes.md 2.5); asking it whether our client is still connected reaches the same
// conclusion. Asked with every health query and when a publish's result never came.
void MqttSession::check_connection() {
  if (state_ != State::kReady || connection_check_pending_) return;
  connection_check_pending_ = true;
  const auto generation = generation_;
  Step step = dialect_->connection_alive(config_);
  channel_.submit(step.command, [this, generation, check = step.check](const at::Result& r) {
    connection_check_pending_ = false;
    if (generation != generation_ || state_ != State::kReady) return;
    if (auto failure = check(r, info_)) {
      log_->warn("{}", failure->text);
      session_lost(failure->text);
      mqtt_opened_ = false;
      recover(failure->rung, failure->text, failure->counts);
    }
  });
}

// ---- events -----------------------------------------------------------------------------------

void MqttSession::register_urcs() {
  // The registration URCs are 27.007's, the same on every family.
  for (const auto kind : {gpp::Registration::kCs, gpp::Registration::kGprs, gpp::Registration::kEps}) {
    urc_handlers_.push_back(channel_.urcs().add(gpp::prefix(kind), [this](std::string_view line) {
      const auto status = gpp::parse_registration_urc(line);
      if (!status) return;
      if (status->kind != gpp::Registration::kCs) info_.registration = status->stat;
      if (observer_.info_changed) observer_.info_changed();
      if (gpp::is_registered(status->stat)) post(Event::kRegistered);
    }));
  }
}

DialectEvents MqttSession::dialect_events() {
  DialectEvents e;
  e.module_booted = [this] { post(Event::kModuleBooted); };
  e.session_closed = [this](const SessionClosed& closed) { session_closed(closed); };
  e.data_lost = [this] { post(Event::kPdpDeactivated); };
  e.message = [this](const InboundMessage& message) {
    ++stats_.messages_received;
    if (observer_.message) observer_.message(message);
  };
  e.message_refused = [this](std::string_view why, std::string_view line) { refuse_message(why, line); };
  e.message_waiting = [this](int slot) { on_message_waiting(slot); };
  e.publish_retransmitted = [this](int msgid, std::optional<int> count) {
    auto it = in_flight_.find(msgid);
    if (it == in_flight_.end()) return;
    it->second.retransmissions = count ? *count : it->second.retransmissions + 1;
    ++stats_.retransmissions;
    log_->debug("publish {} retransmitted ({} so far)", msgid, it->second.retransmissions);
  };
  e.unexpected_publish_result = [this](int msgid) {
    // Before this session has published anything it can only be a publish a previous run left in
    // the module's data phase (it died between the command and the payload): the module took our
    // first bytes (AT probes) as that payload and sent them.
    if (stats_.publishes_accepted == 0) {
      log_->warn(
          "the module completed a publish (msgid {}) that this run never made: a previous run died while the "
          "module waited for its payload, and the module published the bytes that came next (AT probes) in "
          "its "
          "place",
          msgid);
    }
  };
  e.ping_failed = [this](std::string_view line) {
    log_->warn("keep-alive ping failed ({})", printable(line));
  };
  e.firmware_note = [this](std::string_view note) {
    log_->warn("{} (firmware {})", note, printable(info_.revision));
  };
  return e;
}

void MqttSession::on_message_waiting(int slot) {
  // Only in buffered receive does the module keep messages to be read. Otherwise such a notice is
  // not the module's: reading on it would only queue commands (a flood of them grew the daemon to
  // 85 MB). And one read per slot at a time: notices repeated before it is answered add nothing.
  if (!config_.buffered_receive || !buffered_reads_.insert(slot).second) return;
  channel_.submit(dialect_->read_message(config_, slot), [this, slot](const at::Result& r) {
    buffered_reads_.erase(slot);
    if (link_) link_->take_read_answer(r);
  });
}

void MqttSession::refuse_message(std::string_view why, std::string_view line) {
  ++stats_.messages_refused;
  if (observer_.message_refused) observer_.message_refused();
  if (refused_log_.allow()) {
    log_->warn("refused a message from the broker: {} ({} refused in all): {}", why, stats_.messages_refused,
               printable(line, 120));
  }
}

void MqttSession::set_tls(TlsSettings tls) {
  if (tls == config_.tls) return;
  config_.tls = std::move(tls);
  if (!config_.tls.enabled) {
    info_.tls.reset();
  } else if (!info_.tls) {
    info_.tls.emplace();
  }
  if (observer_.info_changed) observer_.info_changed();
  if (!past_the_data_connection()) {
    log_->info("the TLS settings changed; the next connection uses them");
    return;  // every later bring-up passes the securing stage with the new settings
  }
  // Files go up only at the securing stage, so the connection is made again; only the files that
  // changed are uploaded (the dialect compares them with what the module has).
  session_lost("the TLS settings changed");
  recover(Rung::kReopen, "the TLS settings changed; connecting again with them", false);
}

bool MqttSession::past_the_data_connection() const {
  switch (state_) {
    case State::kCleaningUp:
    case State::kSecuring:
    case State::kConfiguringMqtt:
    case State::kOpening:
    case State::kConnecting:
    case State::kSubscribing:
    case State::kReady:
      return true;
    default:
      return false;
  }
}

void MqttSession::log_tls_ready() {
  const ModuleInfo::Tls& tls = *info_.tls;
  if (tls.module_time) {
    log_->info("TLS: the module's clock reads {} (source: {}); {} file(s) uploaded since start",
               gpp::format_utc(*tls.module_time), tls.clock_source, tls.files_uploaded);
  } else {
    log_->info(
        "TLS without verifying the server: the module's clock is not needed; {} file(s) uploaded since start",
        tls.files_uploaded);
  }
}

void MqttSession::note_tls_failure(const Failure& failure) {
  if (!info_.tls || !is_tls_failure(failure.kind)) return;
  info_.tls->last_error = failure.text;
  if (observer_.info_changed) observer_.info_changed();
}

void MqttSession::set_subscriptions(std::vector<std::pair<std::string, int>> filters) {
  if (state_ == State::kReady) {
    std::vector<std::string> removed;
    for (const auto& subscription : config_.subscriptions) {
      const std::string& filter = subscription.first;
      const bool kept =
          std::any_of(filters.begin(), filters.end(), [&](const auto& f) { return f.first == filter; });
      if (!kept) removed.push_back(filter);
    }
    if (!removed.empty()) {
      channel_.submit(dialect_->unsubscribe(config_, next_subscribe_msgid(), removed),
                      [this](const at::Result& r) {
                        if (!r.ok()) log_->warn("unsubscribing after a reload failed: {}", at::describe(r));
                      });
    }
    for (const auto& entry : filters) {
      if (std::find(config_.subscriptions.begin(), config_.subscriptions.end(), entry) !=
          config_.subscriptions.end()) {
        continue;
      }
      channel_.submit(dialect_->subscribe(config_, next_subscribe_msgid(), entry.first, entry.second).command,
                      [this, filter = entry.first](const at::Result& r) {
                        if (!r.ok())
                          log_->warn("subscribing to \"{}\" after a reload failed: {}", printable(filter),
                                     at::describe(r));
                      });
    }
  }
  config_.subscriptions = std::move(filters);
}

// ---- publishing -------------------------------------------------------------------------------

std::size_t MqttSession::publish_slots() const {
  if (state_ != State::kReady) return 0;
  const std::size_t window = dialect_->caps().window;
  return in_flight_.size() >= window ? 0 : window - in_flight_.size();
}

int MqttSession::next_msgid() {
  // 1..65535, never one still in flight; moving on (not reusing the lowest free id) keeps a late
  // result for an abandoned publish from being taken for a new one.
  do {
    last_msgid_ = last_msgid_ >= 65535 ? 1 : last_msgid_ + 1;
  } while (in_flight_.contains(last_msgid_));
  return last_msgid_;
}

int MqttSession::next_subscribe_msgid() {
  if (++subscribe_msgid_ > 65535) subscribe_msgid_ = 1;
  return subscribe_msgid_;
}

Admission MqttSession::publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                               PublishCallback callback, std::string* reason) {
  auto reject = [&](std::string why) {
    ++stats_.publishes_rejected;
    log_->warn("refused to publish to \"{}\": {}", printable(topic, 80), why);
    if (reason != nullptr) *reason = std::move(why);
    return Admission::kRejected;
  };
  if (qos < 0 || qos > 2) return reject(fmt::format("QoS {} does not exist", qos));
  if (auto problem = dialect_->check_publish(topic, payload.size())) return reject(std::move(*problem));
  if (publish_slots() == 0) return Admission::kBusy;

  const int msgid = qos > 0 ? next_msgid() : 0;
  const int key = qos > 0 ? msgid : -(++qos0_serial_ % 1'000'000'000) - 1;
  in_flight_.emplace(key, InFlight{qos, std::move(callback), 0});
  ++stats_.publishes_accepted;
  channel_.submit(dialect_->publish(PublishRequest{config_.client_index, msgid, qos, retain, topic, payload}),
                  [this, key](const at::Result& r) {
                    if (!in_flight_.contains(key)) return;  // already failed with the session
                    finish_publish(key, dialect_->publish_outcome(r));
                    // No result at all: perhaps the connection is gone and its report was lost.
                    if (r.code == at::ResultCode::kTimeout) check_connection();
                  });
  return Admission::kAccepted;
}

void MqttSession::finish_publish(int key, PublishOutcome outcome) {
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

void MqttSession::fail_all_in_flight(const std::string& reason) {
  std::vector<int> keys;
  for (const auto& [key, entry] : in_flight_)
    keys.push_back(key);
  for (int key : keys)
    finish_publish(key, PublishOutcome{PublishStatus::kFailed, 0, reason});
  dialect_->abandon_publishes(channel_);
}

}  // namespace modem::session
