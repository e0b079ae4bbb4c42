#include "serial_line.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace modemsim {

namespace {
// Batching granularity of a long paced output: fine enough for a faithful timing model, coarse
// enough that a 115200 baud stream costs ~1000 wake-ups a second instead of 11520. The end of each
// output (a prompt, an OK, a URC) is written the moment its last byte has left the UART, not at the
// next batch: the benchmarks hold the daemon to the line rate, so the model must add no time.
constexpr modem::Duration kBatch = std::chrono::milliseconds(1);
}  // namespace

SerialLine::SerialLine(int master_fd, const modem::Clock& clock, int baud)
    : fd_(master_fd),
      clock_(clock),
      // 8N1: 10 bit times per byte.
      byte_time_(baud > 0 ? std::chrono::duration_cast<modem::Duration>(
                                std::chrono::nanoseconds(10'000'000'000LL / baud))
                          : modem::Duration::zero()),
      batch_bytes_(baud > 0 ? std::max<std::size_t>(1, static_cast<std::size_t>(kBatch / byte_time_)) : 0) {}

void SerialLine::send(std::string_view bytes, std::optional<modem::TimePoint> from) {
  if (bytes.empty()) return;
  if (output_.empty()) output_free_at_ = std::max(output_free_at_, from.value_or(clock_.now()));
  output_.append(bytes);
  output_ends_.push_back(output_total_ += bytes.size());
  write_due_output();
}

void SerialLine::send_garbage(std::size_t n) {
  std::string noise(n, '\0');
  std::uniform_int_distribution<int> byte(0, 255);
  for (char& c : noise)
    c = static_cast<char>(byte(rng_));
  send(noise);
}

void SerialLine::discard() {
  output_.clear();
  output_ends_.clear();
  output_total_ = written_total_;
  input_.clear();
}

short SerialLine::poll_events() const {
  return static_cast<short>(POLLIN | (blocked_ ? POLLOUT : 0));
}

std::optional<modem::TimePoint> SerialLine::next_deadline() const {
  std::optional<modem::TimePoint> next;
  if (!input_.empty()) next = input_.front().at;
  if (!output_.empty() && !blocked_) {
    modem::TimePoint due = output_free_at_ + byte_time_ * static_cast<long>(next_batch_size());
    if (split_ > 0) due = std::max(due, next_split_write_);
    if (!next || due < *next) next = due;
  }
  return next;
}

void SerialLine::dispatch(short revents) {
  if (revents & POLLIN) read_input();
  if (revents & POLLOUT) blocked_ = false;
  deliver_due_input();
  write_due_output();
}

std::size_t SerialLine::next_batch_size() const {
  if (byte_time_ == modem::Duration::zero() || output_ends_.empty()) return 0;
  return std::min<std::size_t>(output_ends_.front() - written_total_, batch_bytes_);
}

void SerialLine::read_input() {
  std::array<char, 4096> buffer{};
  for (;;) {
    const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
    if (n <= 0) return;  // EAGAIN, or EIO while no host has the slave open (we keep one open)
    bytes_received_ += static_cast<std::uint64_t>(n);
    const modem::TimePoint now = clock_.now();
    const modem::TimePoint start = std::max(input_free_at_, now);
    input_free_at_ = start + byte_time_ * n;
    input_.push_back(Arrival{std::string(buffer.data(), static_cast<std::size_t>(n)), input_free_at_});
  }
}

void SerialLine::deliver_due_input() {
  const modem::TimePoint now = clock_.now();
  while (!input_.empty() && input_.front().at <= now) {
    Arrival arrival = std::move(input_.front());
    input_.pop_front();
    if (receiver_) receiver_(arrival.bytes, arrival.at);
  }
}

void SerialLine::write_due_output() {
  if (output_.empty() || blocked_) return;
  const modem::TimePoint now = clock_.now();
  if (split_ > 0 && now < next_split_write_) return;
  std::size_t n = output_.size();
  if (byte_time_ > modem::Duration::zero()) {
    // Only bytes whose last bit has left the UART by now, and a whole batch of them.
    const auto gone =
        now < output_free_at_ ? 0 : static_cast<std::size_t>((now - output_free_at_) / byte_time_);
    if (gone < next_batch_size()) return;
    n = std::min(n, gone);
  }
  if (split_ > 0) n = std::min(n, split_);
  const ssize_t written = ::write(fd_, output_.data(), n);
  if (written < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) blocked_ = true;
    return;
  }
  bytes_sent_ += static_cast<std::uint64_t>(written);
  written_total_ += static_cast<std::size_t>(written);
  while (!output_ends_.empty() && output_ends_.front() <= written_total_)
    output_ends_.pop_front();
  output_.erase(0, static_cast<std::size_t>(written));
  output_free_at_ += byte_time_ * written;
  if (split_ > 0) next_split_write_ = now + std::chrono::milliseconds(1);
}

}  // namespace modemsim
