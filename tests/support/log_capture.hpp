// Captures what a named logger writes ("at" for the AT trace, "session" for the session's log
// lines) so a test can assert on the traffic and on the words a person would read.
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace test_support {

class LogCapture {
 public:
  // Starts capturing `logger_name` at `level` (and leaves the logger's other sinks in place).
  LogCapture(const std::string& logger_name, spdlog::level::level_enum level);
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<std::string> lines() const;
  bool contains(const std::string& text) const;
  // The commands the host sent, in order, from the AT trace ("> AT+CSQ" lines), from `from` on.
  std::vector<std::string> commands(std::size_t from = 0) const;
  std::size_t size() const;

 private:
  class Sink;
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<Sink> sink_;
  std::vector<spdlog::sink_ptr> old_sinks_;
  spdlog::level::level_enum old_level_;
};

}  // namespace test_support
