// Recovery: from each injected fault to Ready (the daemon's retained state "1" again) and to the
// first message spooled during the fault arriving upstream. Our own time is what is left after the
// emulated times (the 5 s boot, the 10 s outage) and the line time of the recovery's AT exchange
// (the bytes modemsim counted both ways at 115200 baud, plus its latency per command). Each fault
// gets a fresh daemon and module, so the recovery ladder starts at its bottom rung every time.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <regex>

#include "publish_bound.hpp"
#include "rig.hpp"
#include "sections.hpp"

namespace bench {

namespace {

struct Fault {
  const char* name;
  const char* control;  // the control-socket command that injects it
  int boot_ms = 0;      // modemsim --boot-ms: what a reboot takes
  int outage_ms = 0;    // "network down", then "network up" this much later
};

const Fault kFaults[] = {
    {"qmtstat 1", "qmtstat 0 1", 0, 0},
    {"qmtstat 2", "qmtstat 0 2", 0, 0},
    {"pdp-deact", "pdp-deact 1", 0, 0},
    {"reboot", "reboot", 5000, 0},
    {"network down 10 s", "network down", 0, 10'000},
};

const std::string kPayload = "spooled during the fault";

struct LineCount {
  long long bytes = 0;     // both directions
  long long commands = 0;  // AT commands the module ran
};

LineCount line_count(test_support::ModemsimProcess& modemsim) {
  const std::string stats = modemsim.control("stats");
  LineCount count;
  std::smatch m;
  for (const char* key : {"bytes_from_host", "bytes_to_host"}) {
    if (std::regex_search(stats, m, std::regex(fmt::format("\"{}\":(\\d+)", key))))
      count.bytes += std::stoll(m[1]);
  }
  const auto commands =
      stats.substr(stats.find("\"commands\":{"), stats.find('}') - stats.find("\"commands\":{"));
  const std::regex number(":(\\d+)");
  for (std::sregex_iterator it(commands.begin(), commands.end(), number), end; it != end; ++it)
    count.commands += std::stoll((*it)[1]);
  return count;
}

double line_ms(const LineCount& from, const LineCount& to, int latency_ms) {
  return static_cast<double>(to.bytes - from.bytes) * byte_seconds(kBaud) * 1000 +
         static_cast<double>((to.commands - from.commands) * latency_ms);
}

}  // namespace

void run_recovery(const BenchContext& context, toml::table& report, std::string& markdown) {
  toml::table results;
  markdown +=
      "## Recovery (RTT 0)\n\n"
      "| fault | to Ready ms | to first delivered ms | emulated ms | line ms | own to Ready ms | own to "
      "delivered ms |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const Fault& fault : kFaults) {
    RigOptions options;
    options.latency_ms = context.latency_ms;
    options.boot_ms = fault.boot_ms;
    options.bridges = {{"rec/#", "out", 1, "", ""}};
    Rig rig(options);
    test_support::MqttTestClient app;
    app.connect(rig.local().port(), "bench-recovery-app");

    LineCount before = line_count(rig.modemsim());
    const std::size_t states = rig.state_messages();
    const std::size_t arrived = rig.sink().messages().size();
    const auto injected = Clock::now();
    const std::string answer = rig.modemsim().control(fault.control);
    if (answer != "ok") throw std::runtime_error(std::string("recovery: ") + fault.control + ": " + answer);
    app.publish("rec/x", kPayload, 1);
    if (fault.outage_ms > 0) {
      rig.pump_until([&] { return Clock::now() - injected >= milliseconds(fault.outage_ms); },
                     milliseconds(fault.outage_ms + 1000));
      rig.modemsim().control("network up");
      // What crossed the line during the outage overlaps the emulated time: count from here.
      before = line_count(rig.modemsim());
    }
    // Messages go up only while Ready, so a daemon that left Ready was back before the delivery.
    const auto limit = milliseconds(120'000);
    if (!rig.pump_until([&] { return rig.sink().messages().size() > arrived; }, limit))
      throw std::runtime_error(std::string("recovery: the spooled message never arrived after ") +
                               fault.name);
    const auto delivered = rig.sink().messages()[arrived].received_at;
    const LineCount at_delivered = line_count(rig.modemsim());
    // A fault the module rides out (a short outage: TCP waits, the publish goes once the network is
    // back) never takes the daemon out of Ready; "to Ready" is then the time to delivery.
    const bool left_ready = rig.wait_state("0", states, milliseconds(0)).has_value();
    const auto ready = left_ready ? rig.wait_state("1", states, milliseconds(0)) : std::optional(delivered);
    if (!ready)
      throw std::runtime_error(std::string("recovery: delivered but not Ready after ") + fault.name);
    const double emulated = fault.boot_ms + fault.outage_ms;
    const double to_ready = ms_between(injected, *ready);
    const double to_delivered = ms_between(injected, delivered);
    // The AT exchange up to Ready is the delivery's exchange less the publish's own command.
    const double line_to_ready =
        std::max(0.0, line_ms(before, at_delivered, context.latency_ms) -
                          publish_bound({kBaud, static_cast<double>(context.latency_ms), 0},
                                        {1, std::string(kRemotePrefix) + "rec/x", kPayload.size(), 1, 1})
                              .chain_ms);
    const double line_to_delivered = line_ms(before, at_delivered, context.latency_ms);
    const double own_ready = to_ready - emulated - line_to_ready;
    const double own_delivered = to_delivered - emulated - line_to_delivered;
    results.insert(fault.name, toml::table{
                                   {"left_ready", left_ready},
                                   {"to_ready_ms", rounded(to_ready, 1)},
                                   {"to_first_delivered_ms", rounded(to_delivered, 1)},
                                   {"emulated_ms", rounded(emulated, 1)},
                                   {"line_to_ready_ms", rounded(line_to_ready, 1)},
                                   {"line_to_first_delivered_ms", rounded(line_to_delivered, 1)},
                                   {"own_to_ready_ms", rounded(own_ready, 1)},
                                   {"own_to_first_delivered_ms", rounded(own_delivered, 1)},
                               });
    const std::string row =
        fmt::format("| {} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.0f} |\n", fault.name, to_ready,
                    to_delivered, emulated, line_to_delivered, own_ready, own_delivered);
    markdown += row;
    std::cerr << "recovery " << row;
  }
  markdown += "\n";
  report.insert("recovery", std::move(results));
}

}  // namespace bench
