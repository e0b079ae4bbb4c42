// The module's side of the serial line: the pseudo-terminal master, with the timing model of a
// real UART at 8N1 (one byte every 10 bit times in each direction) and the line faults the
// control socket can inject (split writes, garbage).
//
// Output is never faster than the line: bytes are written to the pty only once their last bit
// would have left a real UART, in batches of at least a millisecond so a 115200 baud line does not
// cost a wake-up per byte. Input is handed to the module only once it would have arrived.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "modem/clock.hpp"
#include "modem/transport/event_loop.hpp"

namespace modemsim {

class SerialLine final : public modem::EventSource {
 public:
  // `baud` 0 means unpaced: bytes pass as fast as the pty takes them.
  SerialLine(int master_fd, const modem::Clock& clock, int baud);

  // Bytes from the host, called once they have "arrived", with the moment they did in the model
  // (the loop may wake a little later; the module's answer is timed from the model's moment).
  void on_receive(std::function<void(std::string_view, modem::TimePoint)> receiver) {
    receiver_ = std::move(receiver);
  }
  // Queues bytes that start to leave the UART at `from` (when the module produced them in the
  // model; now if not given) or once the bytes before them have left, whichever is later.
  void send(std::string_view bytes, std::optional<modem::TimePoint> from = std::nullopt);
  void send_garbage(std::size_t n);
  // Deliver output in writes of at most `n` bytes, at least 1 ms apart; 0 turns it off.
  void set_split(std::size_t n) { split_ = n; }
  // Forget queued output and input (the module lost power).
  void discard();

  // Bytes that crossed the line so far, each way (for the benchmarks' accounting of line time).
  std::uint64_t bytes_received() const { return bytes_received_; }
  std::uint64_t bytes_sent() const { return bytes_sent_; }

  int poll_fd() const override { return fd_; }
  short poll_events() const override;
  std::optional<modem::TimePoint> next_deadline() const override;
  void dispatch(short revents) override;

 private:
  void read_input();
  void deliver_due_input();
  void write_due_output();
  // How many bytes must have left the UART before the next write: the rest of the current
  // output, or a millisecond's worth of it if that is less.
  std::size_t next_batch_size() const;

  int fd_;
  const modem::Clock& clock_;
  modem::Duration byte_time_;  // zero when unpaced
  std::size_t batch_bytes_;    // bytes per millisecond at this rate (0 when unpaced)
  std::size_t split_ = 0;

  struct Arrival {
    std::string bytes;
    modem::TimePoint at;
  };
  std::deque<Arrival> input_;
  modem::TimePoint input_free_at_{};

  std::string output_;
  std::deque<std::size_t> output_ends_;  // where each send() ends, counted like written_total_
  std::size_t output_total_ = 0;         // bytes ever queued for output
  std::size_t written_total_ = 0;        // bytes ever written to the pty
  modem::TimePoint output_free_at_{};    // when the bytes written so far have left the UART
  modem::TimePoint next_split_write_{};
  std::uint64_t bytes_received_ = 0;
  std::uint64_t bytes_sent_ = 0;
  bool blocked_ = false;  // the pty buffer is full: wait for POLLOUT
  std::function<void(std::string_view, modem::TimePoint)> receiver_;
  std::mt19937 rng_{20261122};
};

}  // namespace modemsim
