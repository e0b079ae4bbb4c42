#include "daemon.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "logging.hpp"
#include "modem/log.hpp"
#include "modem/session/dialects.hpp"
#include "modem/transport/port_discovery.hpp"

namespace cellmqttd {

namespace ms = modem::session;

namespace {

// MQTT 5's Maximum Packet Size for the local connection (§3.1.2.24: the server must not send the
// client a larger packet; mosquitto drops the message and logs "Dropping too large outgoing
// PUBLISH"). Without it a local app's 10 MB publish was read whole into the daemon, at three times
// its size in memory (issue 18), only to be refused for the module's 1500-byte limit. The limit is
// what the daemon could forward at all, with room to spare: the module's payload limit; the local
// topic, which is at most kMaxTopic upstream and may be longer locally by the rule's local prefix
// (itself within kMaxTopic, config.cpp checks local_prefix + topic), so at most twice that; and
// 2 KiB for the fixed header, topic length, packet id and the MQTT 5 properties a publisher may
// attach (user properties, content type, correlation data), which are not forwarded anyway.
// A message between the module's limit and this still reaches the daemon and is refused and
// counted there. "The module" is the one [modem] model names; with "auto", the largest any family
// this build drives takes, so nothing another module could carry is dropped before it is known.
std::uint32_t local_max_packet_size(std::string_view model) {
  return static_cast<std::uint32_t>(modem::session::max_payload(model) +
                                    2 * modem::session::max_topic(model) + 2048);
}

long seconds(const modem::LogThrottle& throttle) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(throttle.interval()).count());
}

}  // namespace

// SIGTERM/SIGINT/SIGHUP through a signalfd, so a signal is one more event in the loop.
class Daemon::Signals final : public modem::EventSource {
 public:
  explicit Signals(std::function<void(int)> handler) : handler_(std::move(handler)) {
    sigset_t set;
    sigemptyset(&set);
    for (int signal : {SIGTERM, SIGINT, SIGHUP})
      sigaddset(&set, signal);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    std::signal(SIGPIPE, SIG_IGN);  // a broker that hangs up is an error return, not a death
  }
  ~Signals() override { ::close(fd_); }
  bool ok() const { return fd_ >= 0; }
  int poll_fd() const override { return fd_; }
  short poll_events() const override { return POLLIN; }
  std::optional<modem::TimePoint> next_deadline() const override { return std::nullopt; }
  void dispatch(short) override {
    signalfd_siginfo info{};
    while (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
      handler_(static_cast<int>(info.ssi_signo));
  }

 private:
  std::function<void(int)> handler_;
  int fd_ = -1;
};

Daemon::Daemon(modem::EventLoop& loop, DaemonConfig config, std::string config_path, bool verbose)
    : loop_(loop),
      config_(std::move(config)),
      config_path_(std::move(config_path)),
      verbose_(verbose),
      log_(modem::logger("main")),
      rules_(config_.bridges),
      modem_backoff_(ms::BackoffConfig{std::chrono::seconds(1), std::chrono::seconds(30), 2.0, 0.2}),
      // A file is fixed by a person: look again soon at first, then every few minutes.
      tls_files_backoff_(ms::BackoffConfig{std::chrono::seconds(10), std::chrono::minutes(5), 2.0, 0.2}),
      spool_drop_log_(loop,
                      [this](std::uint64_t n) {
                        log_->warn(
                            "spool full: dropped {} more messages ({} dropped so far; spool.overflow = {})",
                            n, spool_->stats().dropped_oldest + spool_->stats().dropped_new,
                            config_.spool.overflow == Overflow::kDropOldest ? "drop-oldest" : "drop-new");
                      }),
      spool_error_log_(loop,
                       [this](std::uint64_t n) {
                         log_->error(
                             "the spool could not store {} more messages; the local broker keeps them", n);
                       }),
      refused_log_(loop, [this](std::uint64_t n) {
        log_->warn("not forwarding {} more messages the module could not take ({} refused so far)", n,
                   counters_.refused);
      }) {
  signals_ = std::make_unique<Signals>([this](int signal) {
    if (signal == SIGHUP) {
      reload();
    } else {
      shutdown();
    }
  });
}

Daemon::~Daemon() {
  session_.reset();
  if (channel_) loop_.remove(*channel_);
  if (signals_) loop_.remove(*signals_);
}

int Daemon::run() {
  if (!signals_->ok()) {
    log_->error("cannot set up signal handling");
    return kExitRuntime;
  }
  loop_.add(*signals_);
  auto spool = Spool::open(config_.spool);
  if (!spool) {
    log_->error("{}", spool.error().message);
    return kExitRuntime;
  }
  spool_ = std::move(spool).value();
  if (spool_->size() > 0) log_->info("{} messages waiting in the spool from before", spool_->size());

  LocalClientConfig local;
  local.host = config_.local.host;
  local.port = config_.local.port;
  local.client_id = config_.local.client_id;
  local.username = config_.local.username;
  local.password = config_.local.password;
  local.clean_session = config_.local.clean_session;
  local.max_packet_size = local_max_packet_size(config_.modem.model);
  local.will = std::make_pair(state_topic(), std::string("0"));
  local.reconnect = ms::BackoffConfig{std::chrono::milliseconds(500), std::chrono::seconds(30), 2.0, 0.2};
  LocalClient::Events events;
  events.message = [this](const LocalMessage& m) { on_local_message(m); };
  events.after_read = [this] { return after_local_read(); };
  events.connection_changed = [this](bool connected) {
    if (connected) last_state_payload_.clear();  // the retained documents are published afresh
    status_changed();
  };
  local_ = std::make_unique<LocalClient>(loop_, local, events);
  local_->set_subscriptions(rules_.local_subscriptions());
  local_->start();

  if (tls_file_errors_.empty()) {
    open_modem();
  } else {
    wait_for_tls_files();
  }

  loop_.call_after(std::chrono::seconds(std::max(1, config_.status.interval_s)),
                   [this] { periodic_status(); });
  notifier_.ready(status_line(snapshot()));
  if (notifier_.watchdog_interval()) watchdog();

  log_->info("running: bridging {}:{} to {}:{}{} through the cellular module", config_.local.host,
             config_.local.port, config_.upstream.host, config_.upstream.port,
             config_.upstream.tls.enabled ? " (TLS)" : "");
  loop_.run();
  return exit_code_;
}

// ---- the module -------------------------------------------------------------------------------

void Daemon::open_modem() {
  if (stopping_) return;
  std::string path = config_.modem.port;
  std::string module_hint;  // what USB discovery knows the module as, for model "auto"
  if (path == "auto") {
    auto ports = modem::enumerate_usb_serial_ports();
    if (!ports) return retry_modem(ports.error().message);
    const auto candidates = modem::rank_at_ports(ports.value());
    if (candidates.empty()) {
      return retry_modem(
          fmt::format("no {} AT port found (is the module plugged in? set [modem] port to its device)",
                      modem::known_vendors()));
    }
    path = candidates.front().path;
    module_hint = candidates.front().module;
    // From sysfs and the USB descriptors a device reports about itself: shown escaped.
    log_->info("module port: {} ({}, {})", modem::printable(path),
               modem::printable(candidates.front().module), modem::printable(candidates.front().reason, 200));
  }
  auto opened = modem::SerialPort::open(path, modem::SerialConfig{config_.modem.baud, false, true});
  if (!opened) return retry_modem(opened.error().message);
  port_ = std::move(opened).value();
  no_module_reason_.clear();
  channel_ = std::make_unique<modem::at::Channel>(*port_, loop_.clock());
  loop_.add(*channel_);

  ms::SessionConfig session_config = to_session_config(config_);
  session_config.model_hint = module_hint;
  ms::SessionObserver observer;
  observer.state_changed = [this](ms::State state) {
    status_changed();
    if (state == ms::State::kReady) {
      modem_backoff_.reset();  // the port works: if it goes away again, look for it again soon
      drain();
    }
  };
  observer.message = [this](const ms::InboundMessage& m) { on_upstream_message(m); };
  observer.message_refused = [this] {
    ++counters_.refused;  // the session has logged why
    status_changed();
  };
  observer.info_changed = [this] { status_changed(); };
  observer.device_lost = [this](const std::string& why) { modem_lost(why); };
  session_ = std::make_unique<ms::MqttSession>(*channel_, loop_, session_config, observer);
  if (!session_->start()) {
    exit_code_ = kExitConfig;
    loop_.stop();
  }
}

void Daemon::wait_for_tls_files() {
  for (const auto& error : tls_file_errors_)
    log_->error("{}", error.to_string());
  no_module_reason_ = "TLS cannot start: " + tls_file_errors_.front().message;
  if (tls_file_errors_.size() > 1)
    no_module_reason_ += fmt::format(" (and {} more)", tls_file_errors_.size() - 1);
  no_module_.tls.emplace();
  no_module_.tls->last_error = no_module_reason_;
  status_changed();
  const auto wait = tls_files_backoff_.next();
  log_->error(
      "TLS cannot start until the file is fixed; messages wait in the spool; looking again in {:.0f} s "
      "(or at SIGHUP)",
      std::chrono::duration<double>(wait).count());
  if (tls_files_timer_) loop_.cancel(*tls_files_timer_);
  tls_files_timer_ = loop_.call_after(wait, [this] {
    tls_files_timer_.reset();
    check_tls_files_again();
  });
}

void Daemon::check_tls_files_again() {
  auto result = load_config(config_path_);
  if (!result.config) {
    log_->error("{} has {} error(s) now; still waiting for usable TLS files", config_path_,
                result.errors.size());
    return wait_for_tls_files();
  }
  if (result.errors.empty()) {
    // Fixed: these settings are the ones the session starts with.
    config_.upstream.tls = result.config->upstream.tls;
    config_.cellular.ntp_server = result.config->cellular.ntp_server;
  }
  apply_tls_file_errors(std::move(result.errors));
}

void Daemon::apply_tls_file_errors(std::vector<ConfigError> errors) {
  tls_file_errors_ = std::move(errors);
  if (!tls_file_errors_.empty()) return wait_for_tls_files();
  if (tls_files_timer_) loop_.cancel(*tls_files_timer_);
  tls_files_timer_.reset();
  tls_files_backoff_.reset();
  no_module_.tls.reset();
  no_module_reason_.clear();
  log_->info("the TLS files are usable now");
  loop_.call_after(modem::Duration::zero(), [this] { open_modem(); });
}

void Daemon::retry_modem(const std::string& why) {
  no_module_reason_ = why;
  status_changed();
  const auto wait = modem_backoff_.next();
  log_->warn("{}; trying the module again in {:.1f} s", modem::printable(why, 400),
             std::chrono::duration<double>(wait).count());
  loop_.call_after(wait, [this] { open_modem(); });
}

void Daemon::modem_lost(const std::string& why) {
  // Called from inside the channel's own dispatch: take it apart on the next turn of the loop.
  loop_.call_after(modem::Duration::zero(), [this, why] {
    session_.reset();
    if (channel_) loop_.remove(*channel_);
    channel_.reset();
    port_.reset();
    status_changed();
    retry_modem("the module's port went away (" + why + ")");
  });
}

// ---- bridging ---------------------------------------------------------------------------------

void Daemon::on_local_message(const LocalMessage& message) {
  const auto route = rules_.outbound(message.topic);
  if (!route) {
    ++counters_.unrouted;
    return;
  }
  // Refused before it is spooled: it could never be sent (and must never reach the module's
  // commands). The module decides, once the session knows it; before, any family this build
  // drives that could take it keeps it.
  const std::optional<std::string> problem =
      session_ ? session_->check_publish(route->topic, message.payload.size())
               : ms::check_publish(config_.modem.model, route->topic, message.payload.size());
  if (problem) {
    ++counters_.refused;
    if (refused_log_.allow()) {
      log_->warn("not forwarding a message from \"{}\": {} ({} refused so far)",
                 modem::printable(message.topic, 80), modem::printable(*problem, 200), counters_.refused);
    }
    return;
  }
  const auto dropped_before = spool_->stats().dropped_new;
  switch (spool_->enqueue(route->topic, message.payload, route->qos, message.retain)) {
    case Spool::Stored::kStored:
      break;
    case Spool::Stored::kStoredAfterDroppingOldest:
      ++counters_.dropped;
      if (spool_drop_log_.allow()) {
        log_->warn(
            "spool full: dropped the oldest message to keep \"{}\" ({} dropped so far; more drops "
            "are summarised every {} s)",
            modem::printable(route->topic, 80), spool_->stats().dropped_oldest, seconds(spool_drop_log_));
      }
      break;
    case Spool::Stored::kDroppedNew:
      ++counters_.dropped;
      if (spool_->stats().dropped_new == dropped_before) {
        // Not for lack of room: the database refused the write (disk full, I/O error). The
        // watchdog stops, so systemd restarts us instead of letting messages go.
        spool_healthy_ = false;
        if (spool_error_log_.allow()) {
          log_->error("the spool could not store a message for \"{}\": the disk is full or failing",
                      modem::printable(route->topic, 80));
        }
      } else if (spool_drop_log_.allow()) {
        log_->warn(
            "spool full: dropped a new message for \"{}\" ({} dropped so far; more drops are "
            "summarised every {} s)",
            modem::printable(route->topic, 80), spool_->stats().dropped_new, seconds(spool_drop_log_));
      }
      break;
  }
  spool_dirty_ = true;
}

bool Daemon::after_local_read() {
  if (!spool_dirty_) return true;
  spool_dirty_ = false;
  if (auto committed = spool_->commit(); !committed) {
    // Not healthy: the watchdog stops, and systemd restarts us rather than let us lose data.
    // Meanwhile nothing that was not stored is acknowledged: the local broker keeps it.
    spool_healthy_ = false;
    log_->error("the spool cannot commit: {}; the local broker keeps those messages and sends them again",
                committed.error().message);
    return false;
  }
  drain();
  return true;
}

void Daemon::drain() {
  if (!session_ || !session_->ready() || stopping_) return;
  if (rewind_) {
    if (!sending_.empty()) return;  // let what is in flight finish first
    last_sent_id_ = 0;              // then send again, in order, what is still spooled
    rewind_ = false;
  }
  while (session_->publish_slots() > 0) {
    const auto batch = spool_->peek(session_->publish_slots(), last_sent_id_);
    if (batch.empty()) return;
    for (const auto& m : batch) {
      std::string reason;
      const auto admission = session_->publish(
          m.topic, m.payload, m.qos, m.retain,
          [this, id = m.id](const ms::PublishOutcome& o) { on_outcome(id, o); }, &reason);
      if (admission == ms::Admission::kBusy) return;
      last_sent_id_ = m.id;
      if (admission == ms::Admission::kAccepted) {
        sending_.insert(m.id);
      } else {
        ++counters_.refused;
        spool_->remove(m.id);
      }
    }
  }
}

void Daemon::on_outcome(std::int64_t id, const ms::PublishOutcome& outcome) {
  sending_.erase(id);
  if (outcome.status == ms::PublishStatus::kDelivered) {
    ++counters_.up;
    spool_->remove(id);
    spool_dirty_ = true;
  } else {
    ++counters_.resent;
    rewind_ = true;
    log_->debug("message {} not delivered ({}); it stays spooled and is sent again", id,
                modem::printable(outcome.reason, 200));
  }
  // Removals are committed together, once per turn of the loop.
  if (spool_dirty_) {
    loop_.call_after(modem::Duration::zero(), [this] { (void)after_local_read(); });
  } else {
    loop_.call_after(modem::Duration::zero(), [this] { drain(); });
  }
}

void Daemon::on_upstream_message(const ms::InboundMessage& message) {
  const auto route = rules_.inbound(message.topic);
  if (!route) {
    ++counters_.unrouted;
    log_->debug("no [[bridge]] rule takes \"{}\" from upstream", modem::printable(message.topic, 80));
    return;
  }
  ++counters_.down;
  local_->publish(LocalMessage{route->topic, message.payload, route->qos, false});
}

// ---- status and systemd -----------------------------------------------------------------------

StatusSnapshot Daemon::snapshot() const {
  StatusSnapshot s;
  s.state = session_ ? session_->state() : ms::State::kStopped;
  s.info = session_ ? &session_->info() : &no_module_;
  s.upstream = fmt::format("{}:{}", config_.upstream.host, config_.upstream.port);
  s.no_module_reason = session_ ? std::string() : no_module_reason_;
  s.spool_depth = spool_ ? spool_->size() : 0;
  s.counters = counters_;
  s.counters.dropped += local_ ? local_->stats().held_dropped : 0;
  // A message from upstream that libmosquitto would not publish (its topic is not valid UTF-8)
  // could never be delivered locally: refused, like one that could never go up.
  s.counters.refused += local_ ? local_->stats().publish_failed : 0;
  s.now = loop_.clock().now();
  return s;
}

void Daemon::status_changed() {
  if (status_scheduled_) return;
  status_scheduled_ = true;
  loop_.call_after(modem::Duration::zero(), [this] {
    status_scheduled_ = false;
    publish_status();
  });
}

void Daemon::publish_status() {
  const auto s = snapshot();
  notifier_.status(status_line(s));
  if (!local_ || !local_->connected() || stopping_) return;
  local_->publish(LocalMessage{config_.status.topic, status_json(s), 1, true});
  const std::string state = s.state == ms::State::kReady ? "1" : "0";
  if (state != last_state_payload_) {
    last_state_payload_ = state;
    local_->publish(LocalMessage{state_topic(), state, 1, true});
  }
}

void Daemon::periodic_status() {
  publish_status();
  loop_.call_after(std::chrono::seconds(std::max(1, config_.status.interval_s)),
                   [this] { periodic_status(); });
}

void Daemon::watchdog() {
  // WATCHDOG=1 only from a healthy loop: a spool that cannot commit would lose data, so systemd
  // should restart us.
  if (spool_healthy_) notifier_.watchdog();
  loop_.call_after(*notifier_.watchdog_interval(), [this] { watchdog(); });
}

// ---- signals ----------------------------------------------------------------------------------

void Daemon::reload() {
  notifier_.reloading();
  log_->info("SIGHUP: reloading {}", config_path_);
  auto result = load_config(config_path_);
  if (!result.config) {
    for (const auto& error : result.errors)
      log_->error("{}", error.to_string());
    log_->error("the new configuration has {} error(s); keeping the running one", result.errors.size());
    notifier_.ready(status_line(snapshot()));
    return;
  }
  if (!result.errors.empty()) {
    // Only TLS files are wrong (ConfigError::tls_file). Waiting for them: this is the new word on
    // them. Running: the running TLS settings stay, like any failed reload.
    if (!tls_file_errors_.empty()) {
      if (tls_files_timer_) loop_.cancel(*tls_files_timer_);
      tls_files_timer_.reset();
      apply_tls_file_errors(std::move(result.errors));
    } else {
      for (const auto& error : result.errors)
        log_->error("{}", error.to_string());
      log_->error("the new configuration's TLS files have {} problem(s); keeping the running one",
                  result.errors.size());
    }
    notifier_.ready(status_line(snapshot()));
    return;
  }
  for (const auto& warning : result.warnings)
    log_->warn("{}", warning.to_string());
  DaemonConfig fresh = std::move(*result.config);
  apply_log_level(fresh.log.level, fresh.log.at_trace, verbose_);
  rules_ = BridgeRules(fresh.bridges);
  local_->set_subscriptions(rules_.local_subscriptions());
  if (session_) session_->set_subscriptions(rules_.remote_subscriptions());
  spool_->set_limits(fresh.spool);
  config_.bridges = fresh.bridges;
  config_.log = fresh.log;
  config_.spool.max_messages = fresh.spool.max_messages;
  config_.spool.max_bytes = fresh.spool.max_bytes;
  config_.spool.overflow = fresh.spool.overflow;
  config_.status.interval_s = fresh.status.interval_s;
  log_->info(
      "reloaded: {} bridge rule(s), log level {}{}; other changes to [modem], [cellular], [upstream], "
      "[local], "
      "the spool path and the status topic take effect after a restart",
      rules_.rules().size(), config_.log.level, reload_tls(fresh));
  if (!tls_file_errors_.empty()) {
    if (tls_files_timer_) loop_.cancel(*tls_files_timer_);
    tls_files_timer_.reset();
    apply_tls_file_errors({});  // the files are fixed: the module starts
  }
  notifier_.ready(status_line(snapshot()));
}

// The files [upstream.tls] names were read and checked again by load_config (a renewed
// certificate, a rotated key: a reload is how they reach the module without a restart); files
// that fail the checks failed the whole reload above, so the running settings stay. The session
// compares and reconnects only when something changed. Switching TLS on or off also changes the
// port and what the broker expects, so that waits for a restart, like the rest of [upstream].
std::string Daemon::reload_tls(const DaemonConfig& fresh) {
  if (fresh.upstream.tls.enabled != config_.upstream.tls.enabled)
    return fmt::format("; TLS stays {} until a restart", config_.upstream.tls.enabled ? "on" : "off");
  config_.upstream.tls = fresh.upstream.tls;
  config_.cellular.ntp_server = fresh.cellular.ntp_server;
  if (session_) session_->set_tls(to_session_config(config_).tls);
  return config_.upstream.tls.enabled ? ", the TLS files and settings applied" : "";
}

void Daemon::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  notifier_.stopping();
  log_->info("stopping");
  // Whatever happens below, the process ends within a few seconds.
  loop_.call_after(std::chrono::seconds(8), [this] {
    log_->warn("clean shutdown took too long; exiting");
    loop_.stop();
  });
  auto finish_local = [this] {
    if (spool_) (void)spool_->commit();
    local_->stop(LocalMessage{state_topic(), "0", 1, true}, [this] { loop_.stop(); });
  };
  if (session_) {
    session_->stop(finish_local);  // a clean DISCONNECT upstream
  } else {
    finish_local();
  }
}

}  // namespace cellmqttd
