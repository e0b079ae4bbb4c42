// Latency from a local publish to the upstream subscriber, one message at a time on an idle
// gateway, network RTT 0. The daemon's own share is the total minus what the line and the module
// model take in any case: the command, prompt and payload at 115200 baud and the module's latency
// (publish_bound's until_sent_ms). What is left also holds the two brokers' and modemsim's own
// hops, so it is an upper bound of the daemon's share.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <thread>
#include <vector>

#include "direct_driver.hpp"
#include "publish_bound.hpp"
#include "rig.hpp"
#include "sections.hpp"

namespace bench {

namespace {

constexpr std::size_t kPayloadBytes = 16;

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

}  // namespace

void run_latency(const BenchContext& context, toml::table& report, std::string& markdown) {
  RigOptions options;
  options.latency_ms = context.latency_ms;
  options.bridges = {{"lat/#", "out", 1, "", ""}};
  Rig rig(options);
  test_support::MqttTestClient app;
  app.connect(rig.local().port(), "bench-latency-app");
  // Idle: on entering Ready the session asks the module for signal, operator and network (three
  // AT commands a publish would queue behind); let that pass first.
  rig.pump_until([] { return false; }, milliseconds(1000));

  const std::size_t samples = context.quick ? 30 : 300;
  std::vector<double> totals_ms;
  for (std::size_t i = 0; i < samples; ++i) {
    std::string payload = fmt::format("{:010}", i);
    payload.resize(kPayloadBytes, '.');
    const std::size_t arrived = rig.sink().messages().size();
    const auto sent = Clock::now();
    app.publish("lat/x", payload, 1);
    if (!rig.pump_until([&] { return rig.sink().messages().size() > arrived; }, milliseconds(10'000)))
      throw std::runtime_error("latency: a message did not arrive upstream");
    totals_ms.push_back(ms_between(sent, rig.sink().messages().back().received_at));
    // Idle between messages: the daemon takes the result URC and commits the removal meanwhile.
    rig.pump_until([] { return false; }, milliseconds(20));
  }

  // The same publishes driven by a bare AT client on a second modemsim (no daemon, no local broker):
  // the test bed's own floor.
  auto direct_module =
      test_support::ModemsimProcess::start({rig.upstream().port(), modemsim_args(context.latency_ms, 0, 0)});
  DirectDriver direct(direct_module.link());
  std::vector<double> floors_ms;
  for (std::size_t i = 0; i < samples; ++i) {
    std::string payload = fmt::format("{:010}", samples + i);
    payload.resize(kPayloadBytes, '.');
    const std::size_t arrived = rig.sink().messages().size();
    const auto sent = Clock::now();
    std::thread driver([&] { direct.publish(std::string(kRemotePrefix) + "lat/x", payload, 1); });
    const bool ok =
        rig.pump_until([&] { return rig.sink().messages().size() > arrived; }, milliseconds(10'000));
    driver.join();
    if (!ok) throw std::runtime_error("latency: a directly driven message did not arrive upstream");
    floors_ms.push_back(ms_between(sent, rig.sink().messages().back().received_at));
    rig.pump_until([] { return false; }, milliseconds(20));
  }
  direct_module.stop();

  // Message ids 1..samples, as the session numbers them.
  const auto bound =
      publish_bound({kBaud, static_cast<double>(context.latency_ms), 0},
                    {1, std::string(kRemotePrefix) + "lat/x", kPayloadBytes, 1, static_cast<int>(samples)});
  const double median = percentile(totals_ms, 0.5);
  const double p99 = percentile(totals_ms, 0.99);
  const double floor_median = percentile(floors_ms, 0.5);
  const double floor_p99 = percentile(floors_ms, 0.99);
  report.insert("latency", toml::table{
                               {"samples", static_cast<std::int64_t>(samples)},
                               {"payload_bytes", static_cast<std::int64_t>(kPayloadBytes)},
                               {"qos", 1},
                               {"rtt_ms", 0},
                               {"total_median_ms", rounded(median)},
                               {"total_p99_ms", rounded(p99)},
                               {"line_and_emulated_ms", rounded(bound.until_sent_ms)},
                               {"own_share_median_ms", rounded(median - bound.until_sent_ms)},
                               {"own_share_p99_ms", rounded(p99 - bound.until_sent_ms)},
                               {"direct_at_median_ms", rounded(floor_median)},
                               {"direct_at_p99_ms", rounded(floor_p99)},
                               {"above_direct_at_median_ms", rounded(median - floor_median)},
                           });
  const std::string table = fmt::format(
      "## Latency, local publish to upstream subscriber (idle, RTT 0, QoS 1, {} B, {} samples)\n\n"
      "| median ms | p99 ms | line + emulated ms | own share median ms | own share p99 ms | "
      "bare AT client median ms | bare AT client p99 ms | median above bare AT client ms |\n"
      "|---|---|---|---|---|---|---|---|\n"
      "| {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} |\n\n",
      kPayloadBytes, samples, median, p99, bound.until_sent_ms, median - bound.until_sent_ms,
      p99 - bound.until_sent_ms, floor_median, floor_p99, median - floor_median);
  markdown += table;
  std::cerr << table;
}

}  // namespace bench
