// The AT channel: one command in flight, a FIFO queue behind it, URCs dispatched whenever they
// arrive (mid-response included: field-notes.md 1.4, 2.5), two-phase commands whose completing URC
// is awaited without holding up the queue (so up to five AT+QMTPUBEX can be outstanding at once),
// echo tolerated, and resynchronisation after a timeout so a late reply is never taken for the
// next command's answer.
//
// The channel never blocks and never sleeps. It is an EventSource: the event loop tells it when
// its fd is readable or writable and when its next deadline has passed.
//
// Line routing while a command is in flight, first match wins:
//   1. the command's own echo (ATE1)                       -> dropped
//   2. a final result (OK, ERROR, +CME ERROR: n, …)         -> ends the command
//   3. one of the command's response prefixes              -> the command's lines
//   4. the command's own completing URC, arriving early    -> kept until the OK
//   5. the completing URC of an earlier two-phase command  -> completes that one
//   6. a registered URC prefix                             -> its handler
//   7. any other line, if the command takes plain lines    -> the command's lines
//   8. anything else                                       -> logged and counted as unsolicited
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modem/at/command.hpp"
#include "modem/at/framer.hpp"
#include "modem/at/urc_registry.hpp"
#include "modem/clock.hpp"
#include "modem/transport/byte_stream.hpp"
#include "modem/transport/event_loop.hpp"

namespace spdlog {
class logger;
}

namespace modem::at {

struct ChannelConfig {
  // After a timeout the line must stay silent this long before the "AT" probe is sent, and again
  // after its OK before the next command goes out; bytes arriving meanwhile restart the wait.
  Duration resync_quiet = std::chrono::milliseconds(100);
  Duration probe_timeout = std::chrono::seconds(1);
  // How long the line stays silent before a long line the framer cannot decide from its bytes
  // alone is decided (Framer::quiet()). A module sends a line in one go: at 9600 baud a byte
  // takes 1 ms, over USB a line arrives in packets microseconds apart; 100 ms of silence in the
  // middle of a line does not happen, and a message that waits for it arrives that much later.
  Duration line_quiet = std::chrono::milliseconds(100);
  // Commands waiting behind the one in flight. The session never queues more than a handful; a
  // command beyond this is refused at once (kAborted), so nothing the module says, however often,
  // can make the queue, and the daemon, grow without bound.
  std::size_t max_queued = 64;
  FramerConfig framer;
};

struct ChannelStats {
  std::uint64_t commands = 0;      // commands written (resync probes not included)
  std::uint64_t timeouts = 0;      // commands and probes that got no final result in time
  std::uint64_t resyncs = 0;       // resynchronisations started
  std::uint64_t urcs = 0;          // lines dispatched to a URC handler
  std::uint64_t unsolicited = 0;   // lines nobody claimed
  std::uint64_t stale_finals = 0;  // final results that arrived with no command to end
  std::uint64_t echoes = 0;        // echoed command lines dropped
  std::uint64_t overflows = 0;     // over-long lines discarded
  std::uint64_t unframeable = 0;   // runs of bytes dropped because they could not be framed safely
  std::uint64_t refused = 0;       // commands refused because the queue was full
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

class Channel final : public EventSource {
 public:
  Channel(ByteStream& stream, const Clock& clock, ChannelConfig config = {});
  ~Channel() override;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Queues a command; `callback` runs exactly once with its result. When the channel is closed, or
  // max_queued commands are already waiting, the callback runs at once with kAborted.
  void submit(Command command, Callback callback);

  UrcRegistry& urcs() { return urcs_; }
  // Lines starting with `prefix` may carry CR/LF inside them: `reader` tells the framer what such
  // a line can be (see Framer, "Long lines"). The longest matching prefix wins; adding a prefix
  // again replaces its reader.
  void add_line_reader(std::string prefix, Framer::LineReader reader);
  void remove_line_reader(const std::string& prefix);
  // Strings that must never appear in a log line (passwords): every line the channel logs, the
  // AT trace included, has them replaced by "***", however late or mangled the echo that carries
  // them arrives.
  void add_secret(std::string secret);
  // The next `n` bytes after the current line are raw data for `consumer` (e.g. "+QIRD: 4").
  void read_raw(std::size_t n, std::function<void(std::string)> consumer);

  // Ends every queued, in-flight and awaiting-completion command with kAborted (the module stopped
  // answering, or rebooted: nothing it was asked before will be answered). A resync in progress
  // goes on: a line that timed out must still be proven quiet before the next command.
  void abort_all();
  // The module announced a restart (RDY): abort_all(), and a resync in progress ends without
  // waiting for its probe. That probe went to a booting module, which drops its input, so its
  // timeout would be one more "no answer" from a module that has just proved it is alive. The line
  // must still go quiet for resync_quiet before the next command (the boot's own URCs).
  void module_restarted();
  // Ends the two-phase commands still awaiting a completion with `prefix` with kAborted (the MQTT
  // session is gone: no +QMTPUBEX will come for its publishes).
  void cancel_completions(std::string_view prefix);

  bool closed() const { return phase_ == Phase::kClosed; }
  // Nothing in flight, nothing queued, no resync in progress (completions may still be awaited).
  bool idle() const { return phase_ == Phase::kIdle && queue_.empty(); }
  std::size_t queued() const { return queue_.size(); }
  std::size_t awaiting_completion() const { return pending_.size(); }
  // Commands and probes in a row that got no final result; reset by the next final result of a
  // command or an answered resync probe.
  unsigned consecutive_timeouts() const { return consecutive_timeouts_; }
  const ChannelStats& stats() const { return stats_; }

  void on_timeout(std::function<void(unsigned consecutive)> observer) { on_timeout_ = std::move(observer); }
  void on_closed(std::function<void(const std::string& why)> observer) { on_closed_ = std::move(observer); }
  void on_unsolicited(std::function<void(std::string_view line)> observer) {
    on_unsolicited_ = std::move(observer);
  }
  // Bytes the framer dropped because no single reading of them was certain (a long line whose
  // declared lengths disagree): `prefix` is the reader's prefix of the line they began with.
  void on_unframeable(std::function<void(std::string_view prefix, std::size_t bytes)> observer) {
    on_unframeable_ = std::move(observer);
  }

  // EventSource
  int poll_fd() const override;
  short poll_events() const override;
  std::optional<TimePoint> next_deadline() const override;
  void dispatch(short revents) override;

  // The three things dispatch() does, callable on their own by tests that drive the channel.
  void handle_readable();
  void handle_writable();
  void handle_deadlines();

 private:
  enum class Phase {
    kIdle,            // ready for the next command
    kAwaitingPrompt,  // command written, waiting for "> "
    kAwaitingFinal,   // waiting for OK / ERROR / +CME ERROR
    kDraining,        // after a timeout: waiting for the line to go quiet
    kProbing,         // "AT" sent, waiting for its OK
    kSettling,        // probe answered; waiting for quiet once more before the next command
    kClosed,          // the stream is gone
  };
  static const char* to_string(Phase phase);

  struct InFlight {
    Command command;
    Callback callback;
    Result result;
    TimePoint deadline;
    bool echo_seen = false;
    std::optional<std::string> early_completion;
  };
  struct Pending {
    Command command;
    Callback callback;
    Result result;
    TimePoint deadline;
  };

  void start_next();
  void write_out(std::string_view bytes);
  void handle_frame(Frame&& frame);
  void send_payload();  // the prompt came: the in-flight command's payload goes out
  void handle_line(const std::string& line);
  bool route_to_pending(const std::string& line);
  bool dispatch_urc(const std::string& line);
  void unsolicited(const std::string& line);
  void finish_in_flight(const FinalResult& final, const std::string& line);
  void complete(Callback callback, const Result& result);
  void fail_in_flight_by_timeout();
  void begin_resync(bool module_may_await_data);
  void send_probe();
  void close(const std::string& why);
  const Framer::LineReader* reader_for(std::string_view line) const;
  // `text` for a log line: printable, and with every secret masked.
  std::string loggable(std::string_view text, std::size_t max_bytes = 120) const;

  ByteStream& stream_;
  const Clock& clock_;
  ChannelConfig config_;
  Framer framer_;
  const Framer::FrameSink frame_sink_ = [this](Frame&& frame) { handle_frame(std::move(frame)); };
  UrcRegistry urcs_;
  std::vector<std::pair<std::string, Framer::LineReader>> line_readers_;
  std::vector<std::string> secrets_;
  bool queue_full_logged_ = false;
  std::function<void(std::string)> raw_consumer_;
  std::shared_ptr<spdlog::logger> log_;

  Phase phase_ = Phase::kIdle;
  std::deque<std::pair<Command, Callback>> queue_;
  std::optional<InFlight> in_flight_;
  std::vector<Pending> pending_;
  std::string out_;
  TimePoint last_rx_{};
  TimePoint probe_deadline_{};
  bool probe_needs_escape_ = false;
  unsigned consecutive_timeouts_ = 0;
  ChannelStats stats_;

  std::function<void(unsigned)> on_timeout_;
  std::function<void(const std::string&)> on_closed_;
  std::function<void(std::string_view)> on_unsolicited_;
  std::function<void(std::string_view, std::size_t)> on_unframeable_;
};

}  // namespace modem::at
