#include "support/scripted_stream.hpp"

#include <algorithm>

namespace test_support {

modem::IoResult ScriptedStream::read(char* buffer, std::size_t capacity) {
  if (closed_) return modem::IoResult::closed();
  if (inbound_.empty()) return modem::IoResult::would_block();
  const std::size_t n = std::min({capacity, chunk_, inbound_.size()});
  std::copy_n(inbound_.data(), n, buffer);
  inbound_.erase(0, n);
  return modem::IoResult::transferred(n);
}

modem::IoResult ScriptedStream::write(std::string_view bytes) {
  if (closed_) return modem::IoResult::closed();
  const std::size_t n = std::min(bytes.size(), write_budget_);
  if (n == 0) return modem::IoResult::would_block();
  if (write_budget_ != static_cast<std::size_t>(-1)) write_budget_ -= n;
  written_.append(bytes.substr(0, n));
  return modem::IoResult::transferred(n);
}

ScriptedPeer& ScriptedPeer::on(std::string expect, std::string reply) {
  steps_.push_back(Step{std::move(expect), std::move(reply)});
  return *this;
}

bool ScriptedPeer::answer() {
  bool queued = false;
  const std::string& written = stream_.written();
  while (next_ < steps_.size()) {
    const Step& step = steps_[next_];
    const std::string_view fresh = std::string_view(written).substr(consumed_);
    if (fresh.size() < step.expect.size()) {
      if (!step.expect.starts_with(fresh)) {
        unexpected_.append(fresh);
        consumed_ = written.size();
      }
      break;
    }
    if (!fresh.starts_with(step.expect)) {
      unexpected_.append(fresh);
      consumed_ = written.size();
      break;
    }
    consumed_ += step.expect.size();
    stream_.push(step.reply);
    ++next_;
    queued = true;
  }
  return queued;
}

}  // namespace test_support
