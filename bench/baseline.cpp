// The naive baseline: from a cold start (a freshly booted module, nothing set up) to the first
// publish acknowledged by the upstream broker, at 115200 baud and a 100 ms network RTT.
//  * theirs: the field guide's Python sequence (field_guide_baseline.py), from the moment the
//    script starts until its message reaches the upstream subscriber;
//  * ours: cellmqttd from the moment the binary starts until a message the local application left
//    (retained) on the local broker reaches the upstream subscriber. Ours also starts the local
//    MQTT client, probes and identifies the module, checks SIM and registration and subscribes to
//    the rules' topics, and publishes at QoS 1 (the script: QoS 0).
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "rig.hpp"
#include "sections.hpp"
#include "support/child_process.hpp"

namespace bench {

namespace {

constexpr int kRttMs = 100;
const std::string kPayload = R"({"temp":25.5})";

double field_guide_run(const BenchContext& context) {
  auto upstream = test_support::MosquittoBroker::start(bench_broker());
  auto modemsim =
      test_support::ModemsimProcess::start({upstream.port(), modemsim_args(context.latency_ms, kRttMs, 0)});
  test_support::MqttTestClient sink;
  sink.connect(upstream.port(), "bench-sink");
  sink.subscribe("home/sensors/temperature", 1);
  const auto log = std::filesystem::temp_directory_path() / fmt::format("field-guide-{}.log", ::getpid());
  const auto started = Clock::now();
  const pid_t script = test_support::spawn_process(
      {test_support::find_program("python3", "/usr/bin"), context.baseline_script, "--port", modemsim.link()},
      log.string());
  const auto messages = sink.wait_for_messages(1, milliseconds(120'000));
  test_support::stop_process(script);
  std::filesystem::remove(log);
  modemsim.stop();
  if (messages.empty()) throw std::runtime_error("baseline: the field guide's publish never arrived");
  return ms_between(started, messages.front().received_at);
}

double cellmqttd_run(const BenchContext& context) {
  RigOptions options;
  options.latency_ms = context.latency_ms;
  options.rtt_ms = kRttMs;
  options.bridges = {{"telemetry/#", "out", 1, "", ""}};
  options.start_daemon = false;
  Rig rig(options);
  test_support::MqttTestClient app;
  app.connect(rig.local().port(), "bench-baseline-app");
  app.publish("telemetry/temperature", kPayload, 1, true);
  const auto started = Clock::now();
  rig.start_daemon();
  if (!rig.pump_until([&] { return !rig.sink().messages().empty(); }, milliseconds(120'000)))
    throw std::runtime_error("baseline: cellmqttd's first publish never arrived");
  return ms_between(started, rig.sink().messages().front().received_at);
}

}  // namespace

void run_baseline(const BenchContext& context, toml::table& report, std::string& markdown) {
  const double theirs = field_guide_run(context);
  const double ours = cellmqttd_run(context);
  report.insert("baseline", toml::table{
                                {"rtt_ms", kRttMs},
                                {"field_guide_cold_start_to_first_publish_ms", rounded(theirs, 0)},
                                {"cellmqttd_cold_start_to_first_publish_ms", rounded(ours, 0)},
                                {"speedup", rounded(theirs / ours, 1)},
                            });
  const std::string table = fmt::format(
      "## Cold start to the first publish acknowledged (RTT {} ms)\n\n"
      "| field guide's script ms | cellmqttd ms | cellmqttd faster by |\n"
      "|---|---|---|\n"
      "| {:.0f} | {:.0f} | {:.1f}x |\n\n",
      kRttMs, theirs, ours, theirs / ours);
  markdown += table;
  std::cerr << table;
}

}  // namespace bench
