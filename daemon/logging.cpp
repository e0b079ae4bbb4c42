#include "logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "modem/log.hpp"

namespace cellmqttd {

namespace {
const char* const kLayers[] = {"at", "session", "bridge", "spool", "main"};
}

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0;
  unsigned long long inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == device &&
         static_cast<unsigned long long>(st.st_ino) == inode;
}

bool apply_log_level(const std::string& level_name, bool at_trace, bool verbose) {
  const auto level = spdlog::level::from_str(level_name);
  if (level == spdlog::level::off && level_name != "off") return false;
  const auto effective = verbose ? std::min(level, spdlog::level::debug) : level;
  spdlog::set_level(effective);
  for (const char* name : kLayers)
    modem::logger(name)->set_level(effective);
  // The AT trace is at trace level in the "at" logger: on only when asked for.
  modem::logger("at")->set_level(at_trace ? spdlog::level::trace : std::max(effective, spdlog::level::debug));
  return true;
}

bool setup_logging(const std::string& level, bool at_trace, bool verbose) {
  spdlog::sink_ptr sink;
  if (stderr_is_journal()) {
    // journald stamps time and unit itself; the logger name says which layer spoke.
    sink = std::make_shared<spdlog::sinks::systemd_sink_mt>("cellmqttd");
    sink->set_pattern("[%n] %v");
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_pattern("%Y-%m-%d %H:%M:%S.%e %-7l [%n] %v");
  }
  auto main_logger = std::make_shared<spdlog::logger>("main", sink);
  spdlog::drop_all();
  spdlog::set_default_logger(main_logger);
  for (const char* name : kLayers)
    modem::logger(name);  // created with the default's sink
  return apply_log_level(level, at_trace, verbose);
}

}  // namespace cellmqttd
