#include "sim_module.hpp"

#include <fmt/format.h>

#include <charconv>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "quectel_personality.hpp"

namespace modemsim {

namespace {

std::vector<std::string> words(std::string_view line) {
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

std::optional<long> number(const std::string& text) {
  long value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

SimModule::SimModule(modem::EventLoop& loop, int pty_master_fd, const SimOptions& options)
    : loop_(loop),
      options_(options),
      line_(pty_master_fd, loop.clock(), options.baud),
      server_(line_, loop, std::chrono::milliseconds(options.latency_ms)) {
  QuectelSettings settings;
  settings.model = find_quectel_model(options.model);
  if (settings.model == nullptr) throw std::invalid_argument("no such model: " + options.model);
  settings.broker_host = options.broker_host;
  settings.broker_port = options.broker_port;
  settings.rtt = std::chrono::milliseconds(options.rtt_ms);
  settings.recv_form = options.recv_form;
  settings.network_time = options.network_time;
  settings.request_reboot = [this] {
    // After the OK has gone out: it was scheduled first for the same moment.
    loop_.call_after(std::chrono::milliseconds(options_.latency_ms), [this] { reboot(); });
  };
  personality_ = std::make_unique<QuectelPersonality>(loop, server_, world_, std::move(settings));
  server_.set_personality(*personality_);
  server_.set_trace(options.verbose);
  line_.on_receive([this](std::string_view bytes, modem::TimePoint at) { server_.receive(bytes, at); });
  loop_.add(line_);
}

SimModule::~SimModule() {
  loop_.remove(line_);
}

void SimModule::power_on(std::function<void()> ready) {
  if (ready) ready_ = std::move(ready);
  server_.set_accepting(false);  // a booting module ignores AT (field-notes.md 1.6)
  const auto generation = ++power_generation_;
  loop_.call_after(std::chrono::milliseconds(options_.boot_ms), [this, generation] {
    if (generation != power_generation_) return;
    server_.set_echo(options_.echo);
    server_.set_accepting(true);
    for (const std::string& urc : personality_->boot_urcs())
      server_.urc(urc);
    if (ready_) std::exchange(ready_, nullptr)();
  });
}

void SimModule::reboot() {
  // All state is lost; what already left the UART stays sent.
  personality_->power_cycle();
  server_.reset();
  power_on();
}

std::string SimModule::control(std::string_view command_line) {
  const auto w = words(command_line);
  if (w.empty()) return "err empty command";
  const std::string& verb = w[0];
  auto arg = [&](std::size_t i) -> std::optional<long> { return i < w.size() ? number(w[i]) : std::nullopt; };
  auto result = [](const std::string& error) { return error.empty() ? std::string("ok") : "err " + error; };

  if (verb == "qmtstat" && w.size() == 3 && arg(1) && arg(2)) {
    return result(personality_->drop_mqtt_session(static_cast<int>(*arg(1)), static_cast<int>(*arg(2))));
  }
  if (verb == "pdp-deact" && w.size() == 2 && arg(1)) {
    const int cid = static_cast<int>(*arg(1));
    auto it = world_.contexts.find(cid);
    if (it == world_.contexts.end() || !it->second.active)
      return fmt::format("err context {} is not active", cid);
    world_.deactivate(cid);
    return "ok";
  }
  if (verb == "reboot" && w.size() == 1) {
    reboot();
    return "ok";
  }
  if (verb == "network" && w.size() == 2 && (w[1] == "down" || w[1] == "up")) {
    world_.set_registration_inputs(world_.radio_on, w[1] == "up");
    personality_->network_changed();
    return "ok";
  }
  if (verb == "mute" && w.size() == 2 && arg(1) && *arg(1) >= 0) {
    server_.mute_for(std::chrono::milliseconds(*arg(1)));
    return "ok";
  }
  if (verb == "garbage" && w.size() == 2 && arg(1) && *arg(1) >= 0) {
    line_.send_garbage(static_cast<std::size_t>(*arg(1)));
    return "ok";
  }
  if (verb == "split" && w.size() == 2 && arg(1) && *arg(1) >= 0) {
    line_.set_split(static_cast<std::size_t>(*arg(1)));
    return "ok";
  }
  if (verb == "stats" && w.size() == 1) return stats_json();
  if (verb == "sim" && w.size() == 2) {
    if (w[1] == "ready")
      world_.sim = World::Sim::kReady;
    else if (w[1] == "absent")
      world_.sim = World::Sim::kAbsent;
    else if (w[1] == "pin")
      world_.sim = World::Sim::kPinRequired;
    else
      return "err sim ready|absent|pin";
    return "ok";
  }
  if (verb == "signal" && w.size() == 2 && arg(1) && *arg(1) >= 0 && *arg(1) <= 31) {
    world_.csq_rssi = static_cast<int>(*arg(1));
    return "ok";
  }
  if (verb == "ntp-fail" && w.size() == 2 && (w[1] == "on" || w[1] == "off")) {
    world_.ntp_fails = w[1] == "on";
    return "ok";
  }
  if (verb == "fail-next" && (w.size() == 2 || w.size() == 3)) {
    const int code = w.size() == 3 && arg(2) ? static_cast<int>(*arg(2)) : -1;
    return result(personality_->fail_next(w[1], code));
  }
  return "err unknown command: qmtstat <idx> <code> | pdp-deact <cid> | reboot | network down|up | mute <ms> "
         "| garbage <n> | split <n> | stats | sim ready|absent|pin | signal <0-31> | fail-next qmtopen "
         "<code> "
         "| fail-next qiact | ntp-fail on|off";
}

std::string SimModule::stats_json() const {
  std::string commands;
  for (const auto& [name, count] : server_.commands_by_name()) {
    if (!commands.empty()) commands += ",";
    commands += json_string(name) + ":" + std::to_string(count);
  }
  const auto figures = personality_->mqtt_figures();
  const auto services = personality_->service_figures();
  return fmt::format(
      "{{\"model\":{},\"commands\":{{{}}},\"messages_up\":{},\"messages_down\":{},\"sessions\":{},"
      "\"max_in_flight\":{},\"registered\":{},\"bytes_from_host\":{},\"bytes_to_host\":{},\"qfupl\":{},"
      "\"qfdel\":{},\"qntp\":{}}}",
      json_string(options_.model), commands, figures.messages_up, figures.messages_down, figures.sessions,
      figures.max_in_flight, world_.registered() ? "true" : "false", line_.bytes_received(),
      line_.bytes_sent(), services.files_uploaded, services.files_deleted, services.ntp_syncs);
}

}  // namespace modemsim
