#include "support/session_rig.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <stdexcept>

namespace test_support {

namespace {
modem::at::ChannelConfig channel_config() {
  modem::at::ChannelConfig config;
  config.resync_quiet = std::chrono::milliseconds(50);
  config.probe_timeout = std::chrono::seconds(1);
  return config;
}
}  // namespace

SessionRig::SessionRig(SessionRigOptions options)
    : broker_(MosquittoBroker::start(options.broker)),
      sim_(ModemsimProcess::start({broker_.port(), options.modemsim_args})) {
  auto opened = modem::SerialPort::open(sim_.link(), modem::SerialConfig{});
  if (!opened) throw std::runtime_error(opened.error().message);
  port_ = std::move(opened).value();
  channel_ = std::make_unique<modem::at::Channel>(*port_, clock_, channel_config());
  loop_.add(*channel_);

  // Real host names in the config: modemsim sends every connection to the test's broker.
  config_.pdp.apn = "internet";
  config_.host = "broker.example.com";
  config_.port = 1883;
  config_.client_id = "gw-{imei}";
  config_.keepalive_s = 60;
  config_.subscriptions = {{"cmd/#", 1}};
  // Fast recovery for tests; production defaults are in session_config.hpp.
  config_.backoff.initial = std::chrono::milliseconds(50);
  config_.backoff.max = std::chrono::milliseconds(400);
  config_.registration_timeout = std::chrono::seconds(3);
  config_.boot_timeout = std::chrono::seconds(5);
  config_.stable_after = std::chrono::seconds(30);
  if (options.configure) options.configure(config_);

  modem::session::SessionObserver observer;
  observer.state_changed = [this](modem::session::State s) { states.push_back(s); };
  observer.message = [this](const modem::session::InboundMessage& m) { messages.push_back(m); };
  session_ = std::make_unique<modem::session::MqttSession>(*channel_, loop_, config_, observer);
  session_->start();
}

SessionRig::~SessionRig() {
  // A failed test shows the story: the session's decisions and the AT traffic (tail).
  if (::testing::Test::HasFailure()) {
    const auto session_lines = session_log_.lines();
    const auto at_lines = at_trace_.lines();
    std::fprintf(stderr, "---- session log (%zu lines) ----\n", session_lines.size());
    for (const auto& line : session_lines)
      std::fprintf(stderr, "%s\n", line.c_str());
    std::fprintf(stderr, "---- AT trace, last 200 of %zu lines ----\n", at_lines.size());
    for (std::size_t i = at_lines.size() > 200 ? at_lines.size() - 200 : 0; i < at_lines.size(); ++i) {
      std::fprintf(stderr, "%s\n", at_lines[i].c_str());
    }
  }
  session_.reset();
  if (channel_) loop_.remove(*channel_);
}

bool SessionRig::run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto give_up = clock_.now() + limit;
  while (!done()) {
    if (clock_.now() >= give_up) return false;
    loop_.run_once(std::chrono::milliseconds(100));
  }
  return true;
}

bool SessionRig::run_until_ready(std::chrono::milliseconds limit) {
  return run_until([this] { return session_->ready(); }, limit);
}

bool SessionRig::run_until_ready_again(std::chrono::milliseconds limit) {
  const std::size_t sessions = session_->stats().sessions;
  return run_until([this, sessions] { return session_->ready() && session_->stats().sessions > sessions; },
                   limit);
}

int find_command(const std::vector<std::string>& commands, const std::string& prefix, std::size_t from) {
  for (std::size_t i = from; i < commands.size(); ++i) {
    if (commands[i].starts_with(prefix)) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace test_support
