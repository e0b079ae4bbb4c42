// The spool and the daemon's footprint.
//  * Idle: RSS and wake-ups per second (context switches of all its threads over a quiet window)
//    while Ready with nothing to send.
//  * Burst: with the module gone (nothing drains), a local application publishes 100,000 small
//    QoS 1 messages as fast as the local broker takes them. The enqueue time runs from the first
//    publish to the daemon's last commit, read from the spool files' modification time once the
//    daemon's status reports all of them spooled (the status is published every second; the
//    files' times are exact).
//  * RSS with the 100,000 spooled.
#include <fmt/format.h>
#include <sys/stat.h>

#include <filesystem>
#include <iostream>

#include "burst_publisher.hpp"
#include "proc_stats.hpp"
#include "rig.hpp"
#include "sections.hpp"

namespace bench {

namespace {

constexpr std::size_t kPayloadBytes = 16;

// The later modification time of the spool's database and its WAL, on the system clock.
std::chrono::system_clock::time_point last_write(const std::string& spool_path) {
  std::chrono::system_clock::time_point latest{};
  for (const std::string& path : {spool_path, spool_path + "-wal"}) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;
    const auto t =
        std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
    latest = std::max(latest, t);
  }
  return latest;
}

}  // namespace

void run_spool(const BenchContext& context, toml::table& report, std::string& markdown) {
  RigOptions options;
  options.latency_ms = context.latency_ms;
  options.bridges = {{"spool/#", "out", 1, "", ""}};

  // Idle and Ready, with the shipped status interval (60 s). Once the start's own traffic is over,
  // count the wake-ups of a quiet window.
  const auto idle_window = milliseconds(context.quick ? 10'000 : 60'000);
  ProcessSample idle_before;
  ProcessSample idle_after;
  {
    Rig rig(options);
    rig.pump_until([] { return false; }, milliseconds(2000));
    idle_before = sample_process(rig.daemon().pid());
    rig.pump_until([] { return false; }, idle_window);
    idle_after = sample_process(rig.daemon().pid());
  }
  const double window_s = std::chrono::duration<double>(idle_window).count();
  const double wakeups =
      static_cast<double>(idle_after.context_switches - idle_before.context_switches) / window_s;

  // The burst, with the module gone (modemsim stopped: its port vanishes, as when the module is
  // unplugged) so nothing drains; the status every second shows the depth.
  options.status_interval_s = 1;
  Rig rig(options);
  const std::size_t states = rig.state_messages();
  rig.modemsim().stop();
  if (!rig.wait_state("0", states, milliseconds(60'000)))
    throw std::runtime_error("spool: still Ready without the module");
  const std::size_t count = context.quick ? 20'000 : 100'000;
  std::vector<OutgoingMessage> burst;
  for (std::size_t i = 0; i < count; ++i) {
    std::string payload = fmt::format("{:010}", i);
    payload.resize(kPayloadBytes, '.');
    burst.push_back({"spool/s", std::move(payload)});
  }
  const auto started_wall = std::chrono::system_clock::now();
  const auto published = publish_burst(rig.local().port(), burst, 1);
  if (!rig.pump_until([&] { return rig.spool_depth().value_or(0) >= static_cast<long>(count); },
                      milliseconds(300'000)))
    throw std::runtime_error(fmt::format("spool: the status never showed {} spooled", count));
  const double enqueue_s =
      std::chrono::duration<double>(last_write(rig.daemon().spool_path()) - started_wall).count();
  const double publish_s = std::chrono::duration<double>(published.finished - published.started).count();
  const auto full = sample_process(rig.daemon().pid());

  report.insert("spool",
                toml::table{
                    {"burst_messages", static_cast<std::int64_t>(count)},
                    {"payload_bytes", static_cast<std::int64_t>(kPayloadBytes)},
                    {"enqueue_msgs_per_s", rounded(static_cast<double>(count) / enqueue_s, 0)},
                    {"enqueue_s", rounded(enqueue_s)},
                    {"local_publisher_msgs_per_s", rounded(static_cast<double>(count) / publish_s, 0)},
                    {"spooled_reported", static_cast<std::int64_t>(rig.spool_depth().value_or(0))},
                    {"rss_idle_kib", static_cast<std::int64_t>(idle_after.rss_kib)},
                    {"rss_spooled_kib", static_cast<std::int64_t>(full.rss_kib)},
                    {"rss_peak_kib", static_cast<std::int64_t>(full.rss_peak_kib)},
                    {"pss_idle_kib", static_cast<std::int64_t>(idle_after.pss_kib)},
                    {"pss_spooled_kib", static_cast<std::int64_t>(full.pss_kib)},
                    {"anonymous_idle_kib", static_cast<std::int64_t>(idle_after.anonymous_kib)},
                    {"anonymous_spooled_kib", static_cast<std::int64_t>(full.anonymous_kib)},
                    {"idle_wakeups_per_s", rounded(wakeups)},
                    {"idle_window_s", rounded(window_s, 0)},
                });
  const std::string table = fmt::format(
      "## Spool and footprint\n\n"
      "| enqueue msgs/s ({} x {} B) | local publisher msgs/s | RSS idle MiB | RSS {} spooled MiB | peak RSS "
      "MiB | "
      "PSS idle / spooled MiB | anonymous idle / spooled MiB | idle wake-ups/s |\n"
      "|---|---|---|---|---|---|---|---|\n"
      "| {:.0f} | {:.0f} | {:.1f} | {:.1f} | {:.1f} | {:.1f} / {:.1f} | {:.1f} / {:.1f} | {:.3f} |\n\n",
      count, kPayloadBytes, count, static_cast<double>(count) / enqueue_s,
      static_cast<double>(count) / publish_s, idle_after.rss_kib / 1024.0, full.rss_kib / 1024.0,
      full.rss_peak_kib / 1024.0, idle_after.pss_kib / 1024.0, full.pss_kib / 1024.0,
      idle_after.anonymous_kib / 1024.0, full.anonymous_kib / 1024.0, wakeups);
  markdown += table;
  std::cerr << table;
}

}  // namespace bench
