#include "modem/at/channel.hpp"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "modem/log.hpp"

namespace modem::at {

namespace {

// ESC leaves the data-input mode a module enters after "> " (Quectel documents it for AT+QISEND
// and the Ctrl-Z form of AT+QMTPUB). When we gave up waiting for a prompt, the module may still be
// waiting for payload bytes and would swallow our probe as data, so the probe starts with ESC.
// V.250 §5.2.1: characters before the "AT" prefix are ignored, so a module in command mode skips it.
constexpr char kEscape = '\x1b';
constexpr std::string_view kProbe = "AT\r";

}  // namespace

const char* Channel::to_string(Phase phase) {
  switch (phase) {
    case Phase::kIdle:
      return "idle";
    case Phase::kAwaitingPrompt:
      return "awaiting-prompt";
    case Phase::kAwaitingFinal:
      return "awaiting-final";
    case Phase::kDraining:
      return "draining";
    case Phase::kProbing:
      return "probing";
    case Phase::kSettling:
      return "settling";
    case Phase::kClosed:
      return "closed";
  }
  return "?";
}

Channel::Channel(ByteStream& stream, const Clock& clock, ChannelConfig config)
    : stream_(stream), clock_(clock), config_(config), framer_(config.framer), log_(logger("at")) {
  framer_.set_reader_lookup([this](std::string_view line) { return reader_for(line); });
}

Channel::~Channel() = default;

void Channel::add_line_reader(std::string prefix, Framer::LineReader reader) {
  remove_line_reader(prefix);
  line_readers_.emplace_back(std::move(prefix), std::move(reader));
}

void Channel::remove_line_reader(const std::string& prefix) {
  std::erase_if(line_readers_, [&](const auto& entry) { return entry.first == prefix; });
}

const Framer::LineReader* Channel::reader_for(std::string_view line) const {
  const std::pair<std::string, Framer::LineReader>* best = nullptr;
  for (const auto& entry : line_readers_) {
    if (line.starts_with(entry.first) && (best == nullptr || entry.first.size() > best->first.size())) {
      best = &entry;
    }
  }
  return best != nullptr ? &best->second : nullptr;
}

void Channel::add_secret(std::string secret) {
  if (secret.empty() || std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.push_back(std::move(secret));
}

std::string Channel::loggable(std::string_view text, std::size_t max_bytes) const {
  if (secrets_.empty()) return printable(text, max_bytes);
  // Masked before printable() escapes and cuts the text, so a secret is never shown in part.
  std::string masked(text);
  for (const std::string& secret : secrets_) {
    for (auto at = masked.find(secret); at != std::string::npos; at = masked.find(secret, at + 3))
      masked.replace(at, secret.size(), "***");
  }
  return printable(masked, max_bytes);
}

void Channel::read_raw(std::size_t n, std::function<void(std::string)> consumer) {
  raw_consumer_ = std::move(consumer);
  framer_.expect_raw(n);
}

void Channel::submit(Command command, Callback callback) {
  const bool full = queue_.size() >= config_.max_queued;
  if (phase_ == Phase::kClosed || full) {
    if (full) {
      ++stats_.refused;
      // Once per time the queue fills up: what follows until there is room again is only counted.
      if (!queue_full_logged_) {
        queue_full_logged_ = true;
        log_->warn(
            "{} AT commands are already waiting; refusing '{}' and whatever comes until there is room "
            "({} refused in all)",
            queue_.size(), loggable(command.loggable()), stats_.refused);
      }
    }
    Result result;
    result.code = ResultCode::kAborted;
    complete(std::move(callback), result);
    return;
  }
  queue_.emplace_back(std::move(command), std::move(callback));
  if (queue_.size() < config_.max_queued) queue_full_logged_ = false;
  start_next();
}

void Channel::start_next() {
  if (phase_ != Phase::kIdle || queue_.empty()) return;
  auto [command, callback] = std::move(queue_.front());
  queue_.pop_front();
  const bool has_payload = command.payload.has_value();
  in_flight_.emplace(
      InFlight{std::move(command), std::move(callback), Result{}, clock_.now(), false, std::nullopt});
  in_flight_->deadline = clock_.now() + in_flight_->command.timeout;
  phase_ = has_payload ? Phase::kAwaitingPrompt : Phase::kAwaitingFinal;
  framer_.expect_prompt(has_payload && in_flight_->command.prompt == Prompt::kAngle);
  ++stats_.commands;
  log_->trace("> {}", loggable(in_flight_->command.loggable(), 4096));
  write_out(in_flight_->command.text + '\r');
}

void Channel::write_out(std::string_view bytes) {
  out_.append(bytes);
  handle_writable();
}

void Channel::handle_writable() {
  while (!out_.empty() && phase_ != Phase::kClosed) {
    const IoResult io = stream_.write(out_);
    if (io.status == IoResult::Status::kOk) {
      stats_.bytes_out += io.bytes;
      out_.erase(0, io.bytes);
    } else if (io.status == IoResult::Status::kWouldBlock) {
      return;
    } else {
      close(io.status == IoResult::Status::kClosed ? "device closed" : std::strerror(io.errnum));
      return;
    }
  }
}

void Channel::handle_readable() {
  std::array<char, 4096> buffer{};
  while (phase_ != Phase::kClosed) {
    const IoResult io = stream_.read(buffer.data(), buffer.size());
    if (io.status == IoResult::Status::kWouldBlock) break;
    if (io.status != IoResult::Status::kOk) {
      close(io.status == IoResult::Status::kClosed ? "device closed (unplugged or hung up)"
                                                   : std::strerror(io.errnum));
      return;
    }
    stats_.bytes_in += io.bytes;
    last_rx_ = clock_.now();
    framer_.feed(std::string_view(buffer.data(), io.bytes), frame_sink_);
  }
  start_next();
}

void Channel::handle_frame(Frame&& frame) {
  switch (frame.kind) {
    case Frame::Kind::kLine:
      handle_line(frame.data);
      break;
    case Frame::Kind::kPrompt:
      if (phase_ == Phase::kAwaitingPrompt && in_flight_) send_payload();
      break;
    case Frame::Kind::kRaw:
      if (raw_consumer_) {
        auto consumer = std::move(raw_consumer_);
        raw_consumer_ = nullptr;
        consumer(std::move(frame.data));
      }
      break;
    case Frame::Kind::kOverflow:
      ++stats_.overflows;
      log_->warn("discarded a {}-byte line from the module (longer than the {}-byte limit), starting: {}",
                 frame.size, config_.framer.max_line_bytes, loggable(frame.data, 80));
      break;
    case Frame::Kind::kUnframeable: {
      ++stats_.unframeable;
      std::string_view prefix;
      for (const auto& [p, reader] : line_readers_) {
        if (frame.data.starts_with(p) && p.size() > prefix.size()) prefix = p;
      }
      log_->warn(
          "dropped {} bytes from the module that cannot be split into lines with certainty (a line whose "
          "declared lengths disagree, as data that imitates module output makes them), starting: {}",
          frame.size, loggable(frame.data, 80));
      if (on_unframeable_) on_unframeable_(prefix, frame.size);
      break;
    }
  }
}

void Channel::send_payload() {
  const Command& command = in_flight_->command;
  if (command.secret_payload) {
    log_->trace("< prompt (payload {} bytes, withheld: a secret)", command.payload->size());
  } else {
    log_->trace("< prompt (payload {} bytes: {})", command.payload->size(), loggable(*command.payload, 64));
  }
  phase_ = Phase::kAwaitingFinal;
  in_flight_->deadline = clock_.now() + command.timeout;
  // ATE1 echoes a QMTPUBEX payload (field-notes.md 1.1); an upload after CONNECT is not echoed.
  if (in_flight_->echo_seen && command.prompt == Prompt::kAngle) framer_.expect_echo(*command.payload);
  write_out(*command.payload);
}

void Channel::handle_line(const std::string& line) {
  if (phase_ == Phase::kAwaitingPrompt && in_flight_ && in_flight_->command.prompt == Prompt::kConnect &&
      line == "CONNECT") {
    send_payload();
    return;
  }
  if (in_flight_ && line == in_flight_->command.text) {
    log_->trace("< (echo) {}", loggable(in_flight_->command.loggable(), 4096));
    ++stats_.echoes;
    in_flight_->echo_seen = true;
    return;
  }
  const auto final = classify_final(line);
  // A mangled echo of a command with a password is still the password: while such a command is in
  // flight, only final results are traced verbatim.
  if (in_flight_ && in_flight_->command.sensitive() && !final) {
    log_->trace("< ({} bytes withheld while a command with a secret is in flight)", line.size());
  } else {
    log_->trace("< {}", loggable(line, 4096));
  }

  switch (phase_) {
    case Phase::kAwaitingPrompt:
    case Phase::kAwaitingFinal: {
      InFlight& cmd = *in_flight_;
      if (final) {
        finish_in_flight(*final, line);
        return;
      }
      for (const std::string& prefix : cmd.command.response_prefixes) {
        if (line.starts_with(prefix)) {
          cmd.result.lines.push_back(line);
          return;
        }
      }
      if (const auto& c = cmd.command.completion;
          c && line.starts_with(c->prefix) && (!c->matches || c->matches(line)) && !cmd.early_completion) {
        cmd.early_completion = line;  // some firmware reports the result before the OK
        return;
      }
      if (route_to_pending(line) || dispatch_urc(line)) return;
      if (cmd.command.plain_lines) {
        cmd.result.lines.push_back(line);
        return;
      }
      unsolicited(line);
      return;
    }
    case Phase::kProbing:
      if (final && final->code == ResultCode::kOk) {
        log_->debug("resync: module answers again; waiting {} ms for quiet",
                    std::chrono::duration_cast<std::chrono::milliseconds>(config_.resync_quiet).count());
        phase_ = Phase::kSettling;
        // It answers: whatever timed out before is no longer a run of silence. (Otherwise, after
        // a long outage, one slow command would at once look like a dead module again.)
        consecutive_timeouts_ = 0;
        return;
      }
      [[fallthrough]];
    case Phase::kIdle:
    case Phase::kDraining:
    case Phase::kSettling:
      if (final) {
        if (line == "AT") return;  // echo of our own probe
        ++stats_.stale_finals;
        log_->debug("dropped a late final result '{}' (no command waits for it)", loggable(line));
        return;
      }
      if (line == "AT") return;  // echo of our own probe
      if (route_to_pending(line) || dispatch_urc(line)) return;
      unsolicited(line);
      return;
    case Phase::kClosed:
      return;
  }
}

bool Channel::route_to_pending(const std::string& line) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    const Completion& c = *it->command.completion;
    if (!line.starts_with(c.prefix) || (c.matches && !c.matches(line))) continue;
    Pending done = std::move(*it);
    pending_.erase(it);
    done.result.code = ResultCode::kOk;
    done.result.completion = line;
    complete(std::move(done.callback), done.result);
    return true;
  }
  return false;
}

bool Channel::dispatch_urc(const std::string& line) {
  if (!urcs_.matches(line)) return false;
  ++stats_.urcs;
  urcs_.dispatch(line);
  return true;
}

void Channel::unsolicited(const std::string& line) {
  ++stats_.unsolicited;
  if (in_flight_ && in_flight_->command.sensitive()) {
    log_->debug("unrecognised {}-byte line from the module (withheld: a command with a secret is in flight)",
                line.size());
  } else {
    log_->debug("unrecognised line from the module: {}", loggable(line));
  }
  if (on_unsolicited_) on_unsolicited_(line);
}

void Channel::finish_in_flight(const FinalResult& final, const std::string& line) {
  InFlight cmd = std::move(*in_flight_);
  in_flight_.reset();
  phase_ = Phase::kIdle;
  framer_.expect_prompt(false);
  consecutive_timeouts_ = 0;
  cmd.result.final_line = line;
  cmd.result.code = final.code;
  cmd.result.error_code = final.error_code;
  if (final.code == ResultCode::kOk && cmd.command.completion) {
    cmd.result.accepted = true;
    if (cmd.early_completion) {
      cmd.result.completion = std::move(cmd.early_completion);
    } else {
      const TimePoint deadline = clock_.now() + cmd.command.completion->timeout;
      pending_.push_back(
          Pending{std::move(cmd.command), std::move(cmd.callback), std::move(cmd.result), deadline});
      start_next();
      return;
    }
  }
  complete(std::move(cmd.callback), cmd.result);
  start_next();
}

void Channel::complete(Callback callback, const Result& result) {
  if (callback) callback(result);
}

void Channel::handle_deadlines() {
  const TimePoint now = clock_.now();
  // A long line only silence can decide: the module has been quiet long enough.
  if (framer_.awaiting_quiet() && now >= last_rx_ + config_.line_quiet) framer_.quiet(frame_sink_);
  // Two-phase commands whose completing URC never came: the module took the command (OK), so this
  // is not a stuck channel, and no resync is needed.
  for (std::size_t i = 0; i < pending_.size();) {
    if (pending_[i].deadline > now) {
      ++i;
      continue;
    }
    Pending expired = std::move(pending_[i]);
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
    log_->debug("'{}' was accepted but its {} never came", loggable(expired.command.loggable()),
                expired.command.completion->prefix);
    expired.result.code = ResultCode::kTimeout;
    complete(std::move(expired.callback), expired.result);
  }

  switch (phase_) {
    case Phase::kAwaitingPrompt:
    case Phase::kAwaitingFinal:
      if (in_flight_ && now >= in_flight_->deadline) fail_in_flight_by_timeout();
      break;
    case Phase::kDraining:
      if (now >= last_rx_ + config_.resync_quiet) send_probe();
      break;
    case Phase::kProbing:
      if (now >= probe_deadline_) {
        ++stats_.timeouts;
        ++consecutive_timeouts_;
        log_->warn("resync: module does not answer AT ({} timeouts in a row)", consecutive_timeouts_);
        phase_ = Phase::kDraining;
        last_rx_ = now;
        if (on_timeout_) on_timeout_(consecutive_timeouts_);
      }
      break;
    case Phase::kSettling:
      if (now >= last_rx_ + config_.resync_quiet) {
        log_->debug("resync complete");
        phase_ = Phase::kIdle;
      }
      break;
    case Phase::kIdle:
    case Phase::kClosed:
      break;
  }
  start_next();
}

void Channel::fail_in_flight_by_timeout() {
  InFlight cmd = std::move(*in_flight_);
  in_flight_.reset();
  const bool awaited_data = cmd.command.payload.has_value();
  ++stats_.timeouts;
  ++consecutive_timeouts_;
  log_->warn("'{}': no answer within {} ms ({} timeouts in a row); resynchronising",
             loggable(cmd.command.loggable()),
             std::chrono::duration_cast<std::chrono::milliseconds>(cmd.command.timeout).count(),
             consecutive_timeouts_);
  begin_resync(awaited_data);
  cmd.result.code = ResultCode::kTimeout;
  complete(std::move(cmd.callback), cmd.result);
  if (on_timeout_) on_timeout_(consecutive_timeouts_);
}

void Channel::begin_resync(bool module_may_await_data) {
  ++stats_.resyncs;
  phase_ = Phase::kDraining;
  probe_needs_escape_ = module_may_await_data;
  framer_.expect_prompt(false);
  framer_.expect_echo({});
  out_.clear();  // what was not written yet belongs to the command that failed
  last_rx_ = clock_.now();
}

void Channel::send_probe() {
  phase_ = Phase::kProbing;
  probe_deadline_ = clock_.now() + config_.probe_timeout;
  std::string probe;
  if (probe_needs_escape_) probe += kEscape;
  probe += kProbe;
  log_->debug("resync: probing with {}", printable(probe));
  write_out(probe);
}

void Channel::abort_all() {
  std::vector<Callback> aborted;
  if (in_flight_) aborted.push_back(std::move(in_flight_->callback));
  in_flight_.reset();
  for (auto& [command, callback] : queue_)
    aborted.push_back(std::move(callback));
  queue_.clear();
  for (Pending& p : pending_)
    aborted.push_back(std::move(p.callback));
  pending_.clear();
  out_.clear();
  framer_.expect_prompt(false);
  framer_.expect_echo({});
  if (phase_ == Phase::kAwaitingPrompt || phase_ == Phase::kAwaitingFinal) phase_ = Phase::kIdle;
  Result result;
  result.code = ResultCode::kAborted;
  for (Callback& callback : aborted)
    complete(std::move(callback), result);
}

void Channel::module_restarted() {
  abort_all();
  if (phase_ == Phase::kDraining || phase_ == Phase::kProbing) {
    log_->debug("resync: the module restarted; waiting {} ms for quiet",
                std::chrono::duration_cast<std::chrono::milliseconds>(config_.resync_quiet).count());
    phase_ = Phase::kSettling;
    last_rx_ = clock_.now();
  }
  consecutive_timeouts_ = 0;  // RDY is an answer: the run of silence is over
}

void Channel::cancel_completions(std::string_view prefix) {
  std::vector<Callback> cancelled;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->command.completion->prefix == prefix) {
      cancelled.push_back(std::move(it->callback));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  Result result;
  result.code = ResultCode::kAborted;
  result.accepted = true;
  for (Callback& callback : cancelled)
    complete(std::move(callback), result);
}

void Channel::close(const std::string& why) {
  if (phase_ == Phase::kClosed) return;
  log_->error("{}: {}; every pending AT command is aborted", stream_.name(), why);
  phase_ = Phase::kClosed;
  abort_all();
  if (on_closed_) on_closed_(why);
}

int Channel::poll_fd() const {
  return phase_ == Phase::kClosed ? -1 : stream_.fd();
}

short Channel::poll_events() const {
  return static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT));
}

std::optional<TimePoint> Channel::next_deadline() const {
  std::optional<TimePoint> next;
  auto consider = [&next](TimePoint t) {
    if (!next || t < *next) next = t;
  };
  for (const Pending& p : pending_)
    consider(p.deadline);
  if (framer_.awaiting_quiet()) consider(last_rx_ + config_.line_quiet);
  switch (phase_) {
    case Phase::kAwaitingPrompt:
    case Phase::kAwaitingFinal:
      if (in_flight_) consider(in_flight_->deadline);
      break;
    case Phase::kDraining:
    case Phase::kSettling:
      consider(last_rx_ + config_.resync_quiet);
      break;
    case Phase::kProbing:
      consider(probe_deadline_);
      break;
    case Phase::kIdle:
    case Phase::kClosed:
      break;
  }
  return next;
}

void Channel::dispatch(short revents) {
  if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0) handle_readable();
  if ((revents & POLLOUT) != 0) handle_writable();
  handle_deadlines();
}

}  // namespace modem::at
