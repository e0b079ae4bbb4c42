// Upstream throughput: QoS 0 and 1, payloads of 16, 128 and 1024 bytes, network RTT 0, 100 and
// 300 ms, at 115200 baud. A local application publishes a burst; the rate is taken from the
// upstream subscriber's arrival times, after the first tenth (the pipeline filling). The same burst
// then goes through Mosquitto's own bridge over a link of the same bandwidth and RTT.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>
#include <thread>

#include "burst_publisher.hpp"
#include "direct_driver.hpp"
#include "proc_stats.hpp"
#include "publish_bound.hpp"
#include "rig.hpp"
#include "sections.hpp"
#include "support/child_process.hpp"

namespace bench {

namespace {

constexpr int kRtts[] = {0, 100, 300};
constexpr int kQoses[] = {0, 1};
constexpr std::size_t kPayloads[] = {16, 128, 1024};

struct Rate {
  double msgs_per_s = 0;
  std::size_t received = 0;  // distinct messages of this burst that arrived
};

std::vector<OutgoingMessage> make_burst(const std::string& topic, std::size_t payload_bytes,
                                        std::size_t count, std::size_t serial_base) {
  std::vector<OutgoingMessage> burst;
  for (std::size_t i = 0; i < count; ++i) {
    // A unique, numbered payload of exactly the cell's size, so arrivals can be told apart.
    std::string payload = fmt::format("{:010}", serial_base + i);
    payload.resize(payload_bytes, '.');
    burst.push_back({topic, std::move(payload)});
  }
  return burst;
}

// Runs `send` (the whole burst) on a thread of its own while this thread takes the arrivals at the
// upstream subscriber; the rate is taken after the first tenth of the arrivals.
Rate measure(test_support::MqttTestClient& sink, std::size_t count, const std::function<void()>& send,
             milliseconds limit) {
  const std::size_t first = sink.messages().size();
  std::thread sender(send);
  const auto deadline = Clock::now() + limit;
  while (sink.messages().size() < first + count && Clock::now() < deadline)
    sink.pump(milliseconds(50));
  sender.join();

  std::vector<Clock::time_point> arrivals;
  std::set<std::string> payloads;
  for (std::size_t i = first; i < sink.messages().size(); ++i) {
    if (payloads.insert(sink.messages()[i].payload).second)
      arrivals.push_back(sink.messages()[i].received_at);
  }
  Rate rate;
  rate.received = arrivals.size();
  const std::size_t skip = std::max<std::size_t>(3, arrivals.size() / 10);
  if (arrivals.size() > skip + 1) {
    const double seconds = std::chrono::duration<double>(arrivals.back() - arrivals[skip]).count();
    rate.msgs_per_s = static_cast<double>(arrivals.size() - 1 - skip) / seconds;
  }
  return rate;
}

// A local application publishing `burst` to the broker on `port`.
Rate measure_local_burst(int port, test_support::MqttTestClient& sink,
                         const std::vector<OutgoingMessage>& burst, milliseconds limit) {
  return measure(
      sink, burst.size(), [&] { publish_burst(port, burst, 1); }, limit);
}

// Mosquitto's bridge, as a user would set it up, to the same upstream broker through a shaped link.
class MosquittoBridge {
 public:
  MosquittoBridge(const BenchContext& context, test_support::MosquittoBroker& upstream, int rtt_ms)
      : link_port_(test_support::free_loopback_port()) {
    const double line_bytes_per_s = kBaud / 10.0;  // the serial line's bandwidth, 8N1
    link_log_ = std::filesystem::temp_directory_path() / fmt::format("shaped-link-{}.log", link_port_);
    link_pid_ = test_support::spawn_process(
        {context.shaped_link, "--listen", std::to_string(link_port_), "--to", std::to_string(upstream.port()),
         "--bytes-per-s", fmt::format("{}", line_bytes_per_s), "--one-way-ms",
         fmt::format("{}", rtt_ms / 2.0)},
        link_log_.string());
    auto options = bench_broker();
    options.extra_config.insert(options.extra_config.end(),
                                {
                                    "connection bench-bridge",
                                    fmt::format("address 127.0.0.1:{}", link_port_),
                                    "remote_clientid bench-bridge",
                                    "bridge_protocol_version mqttv311",
                                    "restart_timeout 1",
                                    "topic # out 0 q0/ up/q0/",
                                    "topic # out 1 q1/ up/q1/",
                                });
    broker_ = std::make_unique<test_support::MosquittoBroker>(test_support::MosquittoBroker::start(options));
    if (!upstream.wait_for_log("as bench-bridge", milliseconds(30'000)))
      throw std::runtime_error("mosquitto's bridge did not connect through the shaped link");
  }
  ~MosquittoBridge() {
    broker_.reset();
    test_support::stop_process(link_pid_);
    std::filesystem::remove(link_log_);
  }
  int port() const { return broker_->port(); }

 private:
  int link_port_;
  std::filesystem::path link_log_;
  pid_t link_pid_ = -1;
  std::unique_ptr<test_support::MosquittoBroker> broker_;
};

}  // namespace

void run_throughput(const BenchContext& context, toml::table& report, std::string& markdown) {
  toml::array cells;
  markdown +=
      "## Upstream throughput (115200 baud)\n\n"
      "| QoS | payload B | RTT ms | msgs/s | bound msgs/s | ratio to bound | bare AT client / bound | "
      "Mosquitto bridge msgs/s | ours / bridge |\n"
      "|---|---|---|---|---|---|---|---|---|\n";
  std::size_t serial = 0;
  for (const int rtt : kRtts) {
    RigOptions options;
    options.latency_ms = context.latency_ms;
    options.rtt_ms = rtt;
    options.bridges = {{"q0/#", "out", 0, "", ""}, {"q1/#", "out", 1, "", ""}};
    Rig rig(options);
    MosquittoBridge bridge(context, rig.upstream(), rtt);
    // A second modemsim driven by a bare AT client (no daemon), to see how much of a gap to the
    // bound is the test bed's own. It sends one publish after another without watching the window,
    // so it runs the cells the window does not limit: QoS 0, and QoS 1 at RTT 0.
    auto direct_module = test_support::ModemsimProcess::start(
        {rig.upstream().port(), modemsim_args(context.latency_ms, rtt, 0)});
    DirectDriver direct(direct_module.link());
    int next_msgid = 1;  // the session numbers its QoS 1 publishes 1, 2, ... from its start
    for (const int qos : kQoses) {
      for (const std::size_t payload : kPayloads) {
        const std::string local_topic = fmt::format("q{}/p{}", qos, payload);
        const std::string upstream_topic = std::string(kRemotePrefix) + local_topic;
        const LineModel line{kBaud, static_cast<double>(context.latency_ms), static_cast<double>(rtt)};
        // Enough messages for some seconds at the bound.
        const double seconds = context.quick ? 2.0 : 8.0;
        auto estimate = publish_bound(line, {qos, upstream_topic, payload, next_msgid, 1});
        const auto count =
            static_cast<std::size_t>(std::clamp(std::ceil(estimate.msgs_per_s * seconds), 30.0, 1000.0));
        const auto bound =
            publish_bound(line, {qos, upstream_topic, payload, next_msgid, static_cast<int>(count)});
        if (qos > 0) next_msgid += static_cast<int>(count);
        const auto limit = milliseconds(static_cast<long>(count / bound.msgs_per_s * 3000) + 30'000);

        const auto before = sample_process(rig.daemon().pid());
        const auto burst = make_burst(local_topic, payload, count, serial);
        serial += count;
        const Rate ours = measure_local_burst(rig.local().port(), rig.sink(), burst, limit);
        const auto after = sample_process(rig.daemon().pid());
        const auto burst_bridge = make_burst(local_topic, payload, count, serial);
        serial += count;
        const Rate theirs = measure_local_burst(bridge.port(), rig.sink(), burst_bridge, limit);

        Rate floor;
        const bool calibrated = qos == 0 || rtt == 0;
        if (calibrated) {
          const auto burst_direct = make_burst(local_topic, payload, count, serial);
          serial += count;
          floor = measure(
              rig.sink(), count,
              [&] {
                for (const auto& m : burst_direct)
                  direct.publish(upstream_topic, m.payload, qos);
              },
              limit);
        }

        const double ratio = ours.msgs_per_s / bound.msgs_per_s;
        const double vs_bridge = theirs.msgs_per_s > 0 ? ours.msgs_per_s / theirs.msgs_per_s : 0;
        toml::table cell{
            {"qos", qos},
            {"payload_bytes", static_cast<std::int64_t>(payload)},
            {"rtt_ms", rtt},
            {"msgs_per_s", rounded(ours.msgs_per_s, 1)},
            {"bound_msgs_per_s", rounded(bound.msgs_per_s, 1)},
            {"ratio_to_bound", rounded(ratio)},
            {"vs_mosquitto_bridge", rounded(vs_bridge)},
            {"mosquitto_bridge_msgs_per_s", rounded(theirs.msgs_per_s, 1)},
            {"messages", static_cast<std::int64_t>(count)},
            {"messages_arrived", static_cast<std::int64_t>(ours.received)},
            {"mosquitto_bridge_messages_arrived", static_cast<std::int64_t>(theirs.received)},
            {"bound_serial_msgs_per_s", rounded(bound.serial_msgs_per_s, 1)},
            {"bound_window_msgs_per_s", rounded(bound.window_msgs_per_s, 1)},
            {"line_bytes_per_publish", rounded(bound.host_to_module_bytes + bound.module_to_host_bytes, 1)},
            {"daemon_cpu_us_per_msg",
             rounded((after.cpu_s - before.cpu_s) * 1e6 / static_cast<double>(count), 1)},
        };
        if (calibrated) {
          cell.insert("direct_at_msgs_per_s", rounded(floor.msgs_per_s, 1));
          cell.insert("direct_at_ratio_to_bound", rounded(floor.msgs_per_s / bound.msgs_per_s));
        }
        cells.push_back(std::move(cell));
        const std::string direct_ratio =
            calibrated ? fmt::format("{:.3f}", floor.msgs_per_s / bound.msgs_per_s) : std::string("-");
        const std::string row = fmt::format(
            "| {} | {} | {} | {:.1f} | {:.1f} | {:.3f} | {} | {:.1f} | {:.2f} |\n", qos, payload, rtt,
            ours.msgs_per_s, bound.msgs_per_s, ratio, direct_ratio, theirs.msgs_per_s, vs_bridge);
        markdown += row;
        std::cerr << "throughput " << row;
      }
    }
  }
  markdown += "\n";
  report.insert("throughput", std::move(cells));
}

}  // namespace bench
