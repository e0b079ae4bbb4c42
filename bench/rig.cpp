#include "rig.hpp"

#include <poll.h>
#include <signal.h>

#include <stdexcept>

namespace bench {

namespace {
constexpr auto kStartLimit = std::chrono::seconds(60);  // a hang guard: boot time plus the session's start
const std::string kStatusTopic = "cellmqttd/status";
const std::string kStateTopic = kStatusTopic + "/state";
}  // namespace

test_support::BrokerOptions bench_broker() {
  test_support::BrokerOptions options;
  options.max_queued_messages = 0;
  // No Nagle delay on the brokers' side either: the latencies measured are the daemon's and the
  // line's, not a 40 ms delayed ACK between two loopback processes.
  options.extra_config.push_back("set_tcp_nodelay true");
  return options;
}

std::vector<std::string> modemsim_args(int latency_ms, int rtt_ms, int boot_ms) {
  return {"--baud",   std::to_string(kBaud),  "--latency-ms", std::to_string(latency_ms),
          "--rtt-ms", std::to_string(rtt_ms), "--boot-ms",    std::to_string(boot_ms)};
}

Rig::Rig(const RigOptions& options)
    : upstream_(test_support::MosquittoBroker::start(bench_broker())),
      local_(test_support::MosquittoBroker::start(bench_broker())) {
  modemsim_ = std::make_unique<test_support::ModemsimProcess>(test_support::ModemsimProcess::start(
      {upstream_.port(), modemsim_args(options.latency_ms, options.rtt_ms, options.boot_ms)}));

  sink_.connect(upstream_.port(), "bench-sink");
  sink_.subscribe(std::string(kRemotePrefix) + "#", 1);
  state_watch_.connect(local_.port(), "bench-state-watch");
  state_watch_.subscribe(kStateTopic, 1);
  state_watch_.subscribe(kStatusTopic, 1);

  test_support::DaemonSettings settings;
  settings.modem_port = modemsim_->link();
  settings.local_port = local_.port();
  settings.log_level = "info";  // what a gateway runs with
  settings.status_interval_s = options.status_interval_s;
  settings.spool_max_messages = options.spool_max_messages;
  settings.spool_max_bytes = 1024ULL * 1024 * 1024;
  for (auto rule : options.bridges) {
    rule.remote_prefix = std::string(kRemotePrefix);
    settings.bridges.push_back(rule);
  }
  daemon_ = std::make_unique<test_support::DaemonProcess>(settings);
  if (!options.start_daemon) return;
  daemon_->start();
  if (!wait_state("1", 0, std::chrono::duration_cast<milliseconds>(kStartLimit))) {
    throw std::runtime_error("the daemon did not become ready; its log:\n" + daemon_->log());
  }
}

Rig::~Rig() {
  if (daemon_ && daemon_->running()) {
    daemon_->signal(SIGTERM);
    daemon_->wait_exit();
  }
  if (modemsim_) modemsim_->stop();
}

bool Rig::pump_until(const std::function<bool()>& done, milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd fds[] = {{sink_.socket(), POLLIN, 0}, {state_watch_.socket(), POLLIN, 0}};
    // At most 50 ms, so libmosquitto's keep-alive gets its turn too.
    ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 50)));
    sink_.pump();
    state_watch_.pump();
  }
  return true;
}

std::optional<Clock::time_point> Rig::wait_state(std::string_view value, std::size_t from,
                                                 milliseconds limit) {
  std::optional<Clock::time_point> seen;
  pump_until(
      [&] {
        const auto& messages = state_watch_.messages();
        for (std::size_t i = from; i < messages.size(); ++i) {
          if (messages[i].topic == kStateTopic && messages[i].payload == value) {
            seen = messages[i].received_at;
            return true;
          }
        }
        return false;
      },
      limit);
  return seen;
}

std::optional<long> Rig::spool_depth() const {
  const auto& messages = state_watch_.messages();
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->topic != kStatusTopic) continue;
    const std::string key = "\"spool_depth\":";
    const auto at = it->payload.find(key);
    if (at == std::string::npos) return std::nullopt;
    return std::stol(it->payload.substr(at + key.size()));
  }
  return std::nullopt;
}

}  // namespace bench
