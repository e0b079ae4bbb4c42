// cellmqtt-bench: runs the benchmarks of issue 7 and writes bench/results/<date>.json and .md.
// scripts/bench builds it and runs it; see bench/README.md for what each figure means.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/utsname.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "rig.hpp"
#include "sections.hpp"

namespace bench {

double rounded(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

}  // namespace bench

namespace {

constexpr const char* kUsage =
    "usage: cellmqtt-bench [--quick] [--only SECTION[,SECTION...]] [--out DIR] [--latency-ms N]\n"
    "sections: throughput, latency, recovery, spool, baseline (default: all)\n"
    "--quick: fewer messages and shorter windows, written as <date>-quick.*: a smoke run\n";

std::string first_line_of(const std::string& command) {
  std::string line;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[256];
    if (std::fgets(buffer, sizeof buffer, pipe) != nullptr) line = buffer;
    ::pclose(pipe);
  }
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.pop_back();
  return line;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

toml::table machine() {
  utsname name{};
  ::uname(&name);
  return toml::table{
      {"cpu", cpu_model()},
      {"cores", static_cast<std::int64_t>(std::thread::hardware_concurrency())},
      {"kernel", std::string(name.release)},
      {"os", first_line_of(". /etc/os-release && echo \"$PRETTY_NAME\"")},
      {"mosquitto", first_line_of("mosquitto -h 2>&1 | head -1")},
      {"commit", first_line_of("git -C " SOURCE_DIR " rev-parse --short HEAD 2>/dev/null")},
  };
}

std::string today() {
  const std::time_t now = std::time(nullptr);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d", std::localtime(&now));
  return buffer;
}

// The figures issue 7 sets targets for, checked against them for the table's last section.
std::vector<std::string> below_target(const toml::table& report) {
  std::vector<std::string> misses;
  if (const auto* cells = report["throughput"].as_array()) {
    for (const auto& node : *cells) {
      const auto& cell = *node.as_table();
      const double ratio = cell["ratio_to_bound"].value_or(0.0);
      if (ratio < 0.9) {
        misses.push_back(fmt::format("throughput QoS {} {} B RTT {} ms: {:.3f} of the bound (target 0.9)",
                                     cell["qos"].value_or(0), cell["payload_bytes"].value_or(0),
                                     cell["rtt_ms"].value_or(0), ratio));
      }
    }
  }
  if (const auto own = report["latency"]["own_share_median_ms"].value<double>(); own && *own > 1.0)
    misses.push_back(fmt::format("latency: own share {:.2f} ms median (target 1 ms)", *own));
  if (const auto* recovery = report["recovery"].as_table()) {
    for (const auto& [fault, node] : *recovery) {
      for (const char* key : {"own_to_ready_ms", "own_to_first_delivered_ms"}) {
        const double own = (*node.as_table())[key].value_or(0.0);
        if (own > 500)
          misses.push_back(fmt::format("recovery {}: {} {:.0f} ms (target 500 ms)", fault.str(), key, own));
      }
    }
  }
  if (const auto rate = report["spool"]["enqueue_msgs_per_s"].value<double>(); rate && *rate < 20'000)
    misses.push_back(fmt::format("spool: {:.0f} enqueues/s (target 20000)", *rate));
  for (const char* key : {"rss_idle_kib", "rss_spooled_kib"}) {
    if (const auto kib = report["spool"][key].value<std::int64_t>(); kib && *kib > 10 * 1024)
      misses.push_back(fmt::format("spool: {} {} KiB (target 10 MiB)", key, *kib));
  }
  if (const auto wakeups = report["spool"]["idle_wakeups_per_s"].value<double>(); wakeups && *wakeups > 1.0)
    misses.push_back(fmt::format("idle wake-ups {:.2f}/s (target 1)", *wakeups));
  return misses;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::off);
  bench::BenchContext context;
  context.shaped_link = SHAPED_LINK_BINARY;
  context.baseline_script = SOURCE_DIR "/bench/field_guide_baseline.py";
  std::string out_dir = SOURCE_DIR "/bench/results";
  std::set<std::string> only;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      context.quick = true;
    } else if (arg == "--only" && i + 1 < argc) {
      std::stringstream list(argv[++i]);
      for (std::string name; std::getline(list, name, ',');)
        only.insert(name);
    } else if (arg == "--out" && i + 1 < argc) {
      out_dir = argv[++i];
    } else if (arg == "--latency-ms" && i + 1 < argc) {
      context.latency_ms = std::stoi(argv[++i]);
    } else {
      std::cerr << kUsage;
      return arg == "--help" ? 0 : 2;
    }
  }

  using Section = void (*)(const bench::BenchContext&, toml::table&, std::string&);
  const std::vector<std::pair<std::string, Section>> sections = {{"throughput", bench::run_throughput},
                                                                 {"latency", bench::run_latency},
                                                                 {"recovery", bench::run_recovery},
                                                                 {"spool", bench::run_spool},
                                                                 {"baseline", bench::run_baseline}};
  for (const auto& name : only) {
    if (std::none_of(sections.begin(), sections.end(), [&](const auto& s) { return s.first == name; })) {
      std::cerr << "unknown section: " << name << "\n" << kUsage;
      return 2;
    }
  }

  const std::string date = today();
  toml::table report{{"date", date},
                     {"machine", machine()},
                     {"settings", toml::table{{"baud", bench::kBaud},
                                              {"module_latency_ms", context.latency_ms},
                                              {"quick", context.quick}}}};
  std::string markdown;
  for (const auto& [name, run] : sections) {
    if (!only.empty() && !only.contains(name)) continue;
    std::cerr << "== " << name << "\n";
    try {
      run(context, report, markdown);
    } catch (const std::exception& e) {
      std::cerr << "bench: " << name << " failed: " << e.what() << "\n";
      return 1;
    }
  }

  const auto misses = below_target(report);
  const auto m = *report["machine"].as_table();
  std::string document = fmt::format(
      "# cellmqtt benchmarks, {}{}\n\n"
      "Machine: {}, {} cores, Linux {}, {}, {}. Commit {}. Module model: modemsim at 115200 baud, "
      "{} ms processing latency. Command: `scripts/bench{}`.\n\n",
      date, context.quick ? " (quick run)" : "", m["cpu"].value_or(""), m["cores"].value_or(0),
      m["kernel"].value_or(""), m["os"].value_or(""), m["mosquitto"].value_or(""), m["commit"].value_or(""),
      context.latency_ms, context.quick ? " --quick" : "");
  document += markdown;
  document += "## Below target\n\n";
  if (misses.empty()) document += "None.\n";
  for (const auto& miss : misses)
    document += "- " + miss + "\n";

  std::filesystem::create_directories(out_dir);
  const std::string stem = out_dir + "/" + date + (context.quick ? "-quick" : "");
  std::ofstream json(stem + ".json");
  // Shortest round-tripping floats: 34.3, not 34.299999999999997.
  json << toml::json_formatter{report, toml::json_formatter::default_flags |
                                           toml::format_flags::relaxed_float_precision}
       << "\n";
  std::ofstream md(stem + ".md");
  md << document;
  std::cout << document << "\nwritten: " << stem << ".json and " << stem << ".md\n";
  return 0;
}
