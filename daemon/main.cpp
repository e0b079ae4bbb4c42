// cellmqttd: command line, configuration, logging, then the daemon's loop.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "config.hpp"
#include "daemon.hpp"
#include "logging.hpp"
#include "modem/log.hpp"
#include "modem/session/dialects.hpp"
#include "modem/transport/event_loop.hpp"

namespace {

constexpr const char* kDefaultConfig = "/etc/cellmqttd/cellmqttd.toml";

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: cellmqttd [--config PATH] [--check-config] [-v] [--version] [--help]\n"
               "\n"
               "Bridges the local Mosquitto to an upstream MQTT broker through a cellular module's\n"
               "built-in MQTT client.\n"
               "\n"
               "  --config PATH    configuration file (default %s)\n"
               "  --check-config   validate the configuration and exit; every error names\n"
               "                   file:line:column and the key\n"
               "  -v, --verbose    debug logging (the AT trace needs [log] at_trace = true)\n"
               "  --version        print the version and exit\n"
               "  --help           this text\n"
               "\n"
               "exit codes:\n"
               "  0  stopped cleanly (SIGTERM), or --check-config found no error\n"
               "  1  the configuration is invalid\n"
               "  2  bad command line\n"
               "  3  could not start (the spool cannot be opened, no signal handling)\n",
               kDefaultConfig);
  std::fprintf(out, "\nmodules ([modem] model, or \"auto\" to detect):");
  for (const std::string_view name : modem::session::dialect_names()) {
    std::fprintf(out, " %.*s", static_cast<int>(name.size()), name.data());
  }
  std::fprintf(out, "\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = kDefaultConfig;
  bool check_only = false;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg.starts_with("--config=")) {
      config_path = std::string(arg.substr(9));
    } else if (arg == "--check-config") {
      check_only = true;
    } else if (arg == "-v" || arg == "--verbose") {
      verbose = true;
    } else if (arg == "--version") {
      std::printf("cellmqttd %s\n", CELLMQTT_VERSION);
      return cellmqttd::kExitOk;
    } else if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return cellmqttd::kExitOk;
    } else {
      std::fprintf(stderr, "cellmqttd: unknown argument '%s'\n\n", argv[i]);
      usage(stderr);
      return cellmqttd::kExitUsage;
    }
  }

  auto loaded = cellmqttd::load_config(config_path);
  if (check_only || !loaded.config) {
    for (const auto& warning : loaded.warnings)
      std::fprintf(stderr, "%s\n", warning.to_string().c_str());
  }
  if (!loaded.config || (check_only && !loaded.errors.empty())) {
    for (const auto& error : loaded.errors)
      std::fprintf(stderr, "%s\n", error.to_string().c_str());
    std::fprintf(stderr, "cellmqttd: %zu error(s) in %s\n", loaded.errors.size(), config_path.c_str());
    return cellmqttd::kExitConfig;
  }
  if (check_only) {
    std::printf("%s: OK\n", config_path.c_str());
    return cellmqttd::kExitOk;
  }
  cellmqttd::setup_logging(loaded.config->log.level, loaded.config->log.at_trace, verbose);
  // At start they go to the journal, where a service's problems are looked for.
  for (const auto& warning : loaded.warnings)
    modem::logger("main")->warn("{}", warning.to_string());
  modem::SteadyClock clock;
  modem::EventLoop loop(clock);
  cellmqttd::Daemon daemon(loop, std::move(*loaded.config), config_path, verbose);
  daemon.set_tls_file_errors(loaded.errors);  // the only errors left, if any: TLS waits for them
  return daemon.run();
}
