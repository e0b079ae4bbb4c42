// The benchmark sections of issue 7, each adding its part of the JSON report and of the Markdown
// table. They are measurements, not tests: nothing here passes or fails.
#pragma once

#include <toml++/toml.h>

#include <string>

namespace bench {

struct BenchContext {
  int latency_ms = 0;           // modemsim's processing latency, for every section
  bool quick = false;           // fewer messages and shorter windows: a smoke run, not for the record
  std::string shaped_link;      // the shaped-link binary
  std::string baseline_script;  // field_guide_baseline.py
};

// Upstream throughput, ours and Mosquitto's bridge over a shaped link: report["throughput"].
void run_throughput(const BenchContext& context, toml::table& report, std::string& markdown);
// Local publish to upstream subscriber, idle, RTT 0: report["latency"].
void run_latency(const BenchContext& context, toml::table& report, std::string& markdown);
// Fault to Ready and to the first spooled message delivered: report["recovery"].
void run_recovery(const BenchContext& context, toml::table& report, std::string& markdown);
// Enqueue rate, memory, idle wake-ups: report["spool"].
void run_spool(const BenchContext& context, toml::table& report, std::string& markdown);
// Cold start to the first publish acknowledged, the field guide's script against us: report["baseline"].
void run_baseline(const BenchContext& context, toml::table& report, std::string& markdown);

// Rounded for the report: three decimals are more than any of these figures can carry.
double rounded(double value, int decimals = 3);

}  // namespace bench
