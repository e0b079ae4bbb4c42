// The module's AT command server: assembles command lines from the host's bytes, echoes them
// (ATE1), runs one command at a time through the personality, answers after the configured
// processing latency, runs data phases after "> ", and queues URCs so they never land inside a
// response (they follow it, as on the modules).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "modem/clock.hpp"
#include "modem/transport/event_loop.hpp"
#include "personality.hpp"
#include "serial_line.hpp"

namespace modemsim {

class AtServer {
 public:
  AtServer(SerialLine& line, modem::EventLoop& loop, modem::Duration latency);

  void set_personality(Personality& personality) { personality_ = &personality; }
  void set_trace(bool trace) { trace_ = trace; }

  // Bytes from the host, once they have arrived; `at` is when they did in the timing model.
  void receive(std::string_view bytes, modem::TimePoint at);
  // An unsolicited result code, "\r\n<line>\r\n" on the wire.
  void urc(const std::string& line);

  // While not accepting (booting, powered down) the module ignores its input entirely.
  void set_accepting(bool accepting) { accepting_ = accepting; }
  void set_echo(bool echo) { echo_ = echo; }
  bool echo() const { return echo_; }
  void set_cmee(int mode) { cmee_ = mode; }
  int cmee() const { return cmee_; }
  // Answer nothing for `duration`: commands are dropped, URCs held until it ends.
  void mute_for(modem::Duration duration);
  // Power loss: forget the command in progress, queued lines, held URCs and a data phase.
  void reset();

  const std::map<std::string, std::uint64_t>& commands_by_name() const { return commands_by_name_; }

 private:
  friend class Reply;
  void process_next();
  void finish(Reply& reply, std::string final_line);
  struct DataPhase;
  void start_data_phase(Reply& reply, DataPhase phase);
  void end_data_phase();
  void time_out_data_phase(std::uint64_t id);
  // Output produced at `at` in the model (the line starts it then, or once it is free).
  void emit(std::string bytes, modem::TimePoint at);
  void flush_held_urcs(modem::TimePoint at);
  bool muted() const;
  // When an answer decided now is due: the module's latency after the command (or its data) arrived,
  // and never before the decision (a personality may answer later, after a network round trip).
  modem::TimePoint answer_time() const;

  SerialLine& line_;
  modem::EventLoop& loop_;
  modem::Duration latency_;
  Personality* personality_ = nullptr;
  bool trace_ = false;
  bool accepting_ = false;
  bool echo_ = true;  // ATE1 is the default after boot
  int cmee_ = 1;

  std::string partial_line_;
  struct Line {
    std::string text;
    modem::TimePoint arrived;
  };
  std::deque<Line> lines_;
  std::shared_ptr<Reply> current_;
  // Model time: the answer to a command is due `latency_` after it arrived (or after the previous
  // answer), however late the loop woke up to handle it, so the model adds no time of its own.
  modem::TimePoint current_started_{};
  modem::TimePoint model_now_{};  // the model's time of the host bytes being handled
  bool handling_input_ = false;   // inside the personality's handling of those bytes
  std::uint64_t generation_ = 0;  // bumped by reset(): timers of a previous life do nothing

  struct DataPhase {
    std::optional<std::size_t> length;  // nullopt: until Ctrl-Z
    std::string data;
    std::function<void(std::string)> on_data;
    enum class Echo { kAsCommands, kAlways, kNever } echo = Echo::kAsCommands;
    std::string intro = "\r\n> ";            // what opens it: the prompt, or CONNECT for an upload
    std::size_t ack_every = 0;               // "A" after each this many bytes but the last (0: none)
    std::optional<modem::Duration> timeout;  // from the intro until the last byte
    std::function<void()> on_timeout;
    std::uint64_t id = 0;  // which phase a timeout was armed for
    modem::EventLoop::TimerId timer = 0;
  };
  std::optional<DataPhase> data_;
  std::uint64_t data_phases_ = 0;

  std::deque<std::string> held_urcs_;
  modem::TimePoint muted_until_{};
  std::map<std::string, std::uint64_t> commands_by_name_;
};

}  // namespace modemsim
