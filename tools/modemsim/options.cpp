#include "options.hpp"

#include <charconv>
#include <string_view>

#include "quectel_models.hpp"

namespace modemsim {

const char* const kUsage =
    "usage: modemsim --link PATH --broker HOST:PORT [--control PATH] [--model ec200u|ec2x|ec200x]\n"
    "                [--baud N] [--latency-ms N] [--rtt-ms N] [--boot-ms N] [--echo on|off]\n"
    "                [--recv-form documented|split|no-length] [--network-time] [-v]\n"
    "\n"
    "A virtual Quectel cellular module on a pseudo-terminal. PATH becomes a symlink to the pty once the\n"
    "module answers (open it like a serial device); every MQTT connection goes to the broker at\n"
    "HOST:PORT, whatever host the AT command names.\n"
    "\n"
    "  --model M         the module, answering as its MQTT application note says where they differ:\n"
    "                      ec200u  Quectel EC200U, as met in the field (the default)\n"
    "                      ec2x    Quectel EC25 (EC2x & EG9x & EM05 MQTT Application Note)\n"
    "                      ec200x  Quectel EC200S (EC200x & EC600x & EG912Y MQTT Application Note)\n"
    "  --control PATH    UNIX socket for faults and figures, one command a line:\n"
    "                      qmtstat <idx> <code> | pdp-deact <cid> | reboot | network down|up |\n"
    "                      mute <ms> | garbage <n> | split <n> | stats | sim ready|absent|pin |\n"
    "                      signal <0-31> | fail-next qmtopen <code> | fail-next qiact |\n"
    "                      ntp-fail on|off\n"
    "  --baud N          pace both directions at the 8N1 line rate (N/10 bytes/s); default: unpaced\n"
    "  --latency-ms N    module processing time before OK or the prompt (default 0)\n"
    "  --rtt-ms N        network round trip before server-acknowledged results (default 0)\n"
    "  --boot-ms N       silence before the boot URCs (default 0)\n"
    "  --echo on|off     command echo after boot (default on, as real modules)\n"
    "  --recv-form F     how +QMTRECV carries a message when recv/mode asks for its length:\n"
    "                      documented  \"<topic>\",<len>,\"<payload>\" (the AN's form, the default)\n"
    "                      split       \"<topic>\",<len> CR LF <payload> (an EC200U firmware)\n"
    "                      no-length   \"<topic>\",\"<payload>\" (firmware that ignores the setting)\n"
    "  --network-time    the network gives its time (NITZ) when the module registers: the clock\n"
    "                    is set to the host's UTC time and AT+QLTS reports it (default: no NITZ,\n"
    "                    the clock starts at 80/01/06,00:00:00+00 until AT+CCLK= or AT+QNTP)\n"
    "  -v                print the AT traffic both ways (passwords masked)\n";

namespace {

// "ec200u, ec2x or ec200x": every row of the model table.
std::string model_names() {
  const auto models = quectel_models();
  std::string names;
  for (std::size_t i = 0; i < models.size(); ++i) {
    if (i > 0) names += i + 1 == models.size() ? " or " : ", ";
    names += models[i].name;
  }
  return names;
}

bool to_int(std::string_view text, int& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size() && out >= 0;
}

}  // namespace

modem::Outcome<ParsedOptions> parse_options(int argc, const char* const* argv) {
  ParsedOptions parsed;
  SimOptions& o = parsed.sim;
  bool have_broker = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string& out) -> bool {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    auto int_value = [&](int& out) -> bool {
      std::string text;
      return value(text) && to_int(text, out);
    };
    std::string text;
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
    } else if (arg == "-v" || arg == "--verbose") {
      o.verbose = true;
    } else if (arg == "--network-time") {
      o.network_time = true;
    } else if (arg == "--link") {
      if (!value(o.link)) return modem::Error{"--link needs a path"};
    } else if (arg == "--control") {
      if (!value(o.control)) return modem::Error{"--control needs a path"};
    } else if (arg == "--model") {
      if (!value(o.model) || find_quectel_model(o.model) == nullptr)
        return modem::Error{"--model needs " + model_names()};
    } else if (arg == "--broker") {
      const auto colon = value(text) ? text.rfind(':') : std::string::npos;
      if (colon == std::string::npos || colon == 0 ||
          !to_int(std::string_view(text).substr(colon + 1), o.broker_port) || o.broker_port == 0 ||
          o.broker_port > 65535) {
        return modem::Error{"--broker needs HOST:PORT"};
      }
      o.broker_host = text.substr(0, colon);
      have_broker = true;
    } else if (arg == "--baud") {
      if (!int_value(o.baud)) return modem::Error{"--baud needs a number"};
    } else if (arg == "--latency-ms") {
      if (!int_value(o.latency_ms)) return modem::Error{"--latency-ms needs a number"};
    } else if (arg == "--rtt-ms") {
      if (!int_value(o.rtt_ms)) return modem::Error{"--rtt-ms needs a number"};
    } else if (arg == "--boot-ms") {
      if (!int_value(o.boot_ms)) return modem::Error{"--boot-ms needs a number"};
    } else if (arg == "--recv-form") {
      if (!value(text)) return modem::Error{"--recv-form needs documented, split or no-length"};
      if (text == "documented") {
        o.recv_form = RecvForm::kDocumented;
      } else if (text == "split") {
        o.recv_form = RecvForm::kSplit;
      } else if (text == "no-length") {
        o.recv_form = RecvForm::kNoLength;
      } else {
        return modem::Error{"--recv-form needs documented, split or no-length"};
      }
    } else if (arg == "--echo") {
      if (!value(text) || (text != "on" && text != "off")) return modem::Error{"--echo needs on or off"};
      o.echo = text == "on";
    } else {
      return modem::Error{"unknown option " + std::string(arg)};
    }
  }
  if (parsed.help) return parsed;
  if (o.link.empty()) return modem::Error{"--link PATH is required"};
  if (!have_broker) return modem::Error{"--broker HOST:PORT is required"};
  return parsed;
}

}  // namespace modemsim
