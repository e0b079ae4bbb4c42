#include "support/log_capture.hpp"

#include <algorithm>
#include <cstdlib>

#include "modem/log.hpp"

namespace test_support {

class LogCapture::Sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> snapshot() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

LogCapture::LogCapture(const std::string& logger_name, spdlog::level::level_enum level)
    : logger_(modem::logger(logger_name)),
      sink_(std::make_shared<Sink>()),
      old_sinks_(logger_->sinks()),
      old_level_(logger_->level()) {
  // The console sees the captured lines too only when the person running the tests asked for
  // logs (test_main.cpp); otherwise raising the level here would flood the test output.
  if (std::getenv("CELLMQTT_TEST_LOG") == nullptr) logger_->sinks().clear();
  logger_->sinks().push_back(sink_);
  logger_->set_level(level);
}

LogCapture::~LogCapture() {
  logger_->sinks() = old_sinks_;
  logger_->set_level(old_level_);
}

std::vector<std::string> LogCapture::lines() const {
  return sink_->snapshot();
}

std::size_t LogCapture::size() const {
  return sink_->snapshot().size();
}

bool LogCapture::contains(const std::string& text) const {
  for (const auto& line : sink_->snapshot()) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

std::vector<std::string> LogCapture::commands(std::size_t from) const {
  std::vector<std::string> out;
  const auto all = sink_->snapshot();
  for (std::size_t i = from; i < all.size(); ++i) {
    if (all[i].starts_with("> ")) out.push_back(all[i].substr(2));
  }
  return out;
}

}  // namespace test_support
