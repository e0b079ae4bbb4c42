#include "proc_stats.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace bench {

namespace {

// The value of "<key>:" in a /proc/.../status file.
std::uint64_t status_field(const std::filesystem::path& status, const std::string& key) {
  std::ifstream in(status);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1));
  }
  return 0;
}

}  // namespace

ProcessSample sample_process(pid_t pid) {
  const std::filesystem::path proc = "/proc/" + std::to_string(pid);
  ProcessSample sample;
  sample.rss_kib = status_field(proc / "status", "VmRSS");
  sample.rss_peak_kib = status_field(proc / "status", "VmHWM");
  sample.pss_kib = status_field(proc / "smaps_rollup", "Pss");
  sample.anonymous_kib = status_field(proc / "smaps_rollup", "Anonymous");
  for (const auto& task : std::filesystem::directory_iterator(proc / "task")) {
    sample.context_switches += status_field(task.path() / "status", "voluntary_ctxt_switches") +
                               status_field(task.path() / "status", "nonvoluntary_ctxt_switches");
  }
  // /proc/<pid>/stat: fields 14 and 15 are utime and stime in clock ticks; the command name (2)
  // is in parentheses and may hold spaces, so count from the closing one.
  std::ifstream stat(proc / "stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int index = 3; fields >> field && index <= 15; ++index) {
    if (index == 14 || index == 15) ticks += std::stod(field);
  }
  sample.cpu_s = ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  return sample;
}

}  // namespace bench
