#include "at_server.hpp"

#include <spdlog/spdlog.h>

#include "modem/log.hpp"

namespace modemsim {

namespace {
constexpr char kCtrlZ = '\x1a';
constexpr char kEscape = '\x1b';
}  // namespace

void Reply::cme_error(int code) {
  finish(server_.cmee() == 0 ? std::string("ERROR") : "+CME ERROR: " + std::to_string(code));
}

void Reply::prompt(std::size_t length, std::function<void(std::string)> on_data, DataEcho echo) {
  AtServer::DataPhase phase;
  phase.length = length;
  phase.on_data = std::move(on_data);
  phase.echo =
      echo == DataEcho::kAlways ? AtServer::DataPhase::Echo::kAlways : AtServer::DataPhase::Echo::kAsCommands;
  server_.start_data_phase(*this, std::move(phase));
}

void Reply::prompt_until_ctrl_z(std::function<void(std::string)> on_data) {
  AtServer::DataPhase phase;
  phase.on_data = std::move(on_data);
  server_.start_data_phase(*this, std::move(phase));
}

void Reply::upload(Upload upload) {
  AtServer::DataPhase phase;
  phase.length = upload.length;
  phase.on_data = std::move(upload.on_data);
  phase.echo = AtServer::DataPhase::Echo::kNever;
  phase.intro = "\r\nCONNECT\r\n";
  phase.ack_every = upload.ack_every;
  phase.timeout = upload.timeout;
  phase.on_timeout = std::move(upload.on_timeout);
  server_.start_data_phase(*this, std::move(phase));
}

void Reply::finish(std::string final_line) {
  if (finished_) return;
  finished_ = true;
  server_.finish(*this, std::move(final_line));
}

AtServer::AtServer(SerialLine& line, modem::EventLoop& loop, modem::Duration latency)
    : line_(line), loop_(loop), latency_(latency) {}

bool AtServer::muted() const {
  return loop_.clock().now() < muted_until_;
}

modem::TimePoint AtServer::answer_time() const {
  const modem::TimePoint decided = handling_input_ ? model_now_ : loop_.clock().now();
  return std::max(decided, current_started_ + latency_);
}

void AtServer::receive(std::string_view bytes, modem::TimePoint at) {
  if (!accepting_) return;
  model_now_ = at;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (data_) {
      // ESC cancels a data phase that ends with Ctrl-Z (nothing is sent, no result code). With a
      // declared length every byte is data, ESC included: that is what makes it binary-safe.
      if (c == kEscape && !data_->length) {
        if (trace_) spdlog::info("host: ESC, data phase cancelled");
        const auto generation = generation_;
        end_data_phase();
        if (generation == generation_ && current_) {
          current_->finished_ = true;
          current_.reset();
          flush_held_urcs(at);
          process_next();
        }
        continue;
      }
      using Echo = DataPhase::Echo;
      if (data_->echo == Echo::kAlways || (data_->echo == Echo::kAsCommands && echo_))
        emit(std::string(1, c), at);
      if (!data_->length && c == kCtrlZ) {
        end_data_phase();
        continue;
      }
      data_->data += c;
      if (data_->length && data_->data.size() == *data_->length) {
        end_data_phase();
      } else if (data_->ack_every > 0 && data_->data.size() % data_->ack_every == 0) {
        emit("A", at);
      }
      continue;
    }
    if (muted()) continue;  // a stuck module does not even echo
    if (echo_) emit(std::string(1, c), at);
    if (c == '\r') {
      if (!partial_line_.empty()) lines_.push_back(Line{std::exchange(partial_line_, {}), at});
      process_next();
    } else if (c != '\n') {
      partial_line_ += c;
    }
  }
}

void AtServer::process_next() {
  while (!current_ && !lines_.empty() && personality_ != nullptr) {
    const std::string text = std::move(lines_.front().text);
    const modem::TimePoint arrived = lines_.front().arrived;
    lines_.pop_front();
    // V.250 §5.2.1: anything before the "AT" prefix is ignored (an ESC from a host that gave up
    // on a prompt, line noise), and so is a line without one.
    std::size_t at = 0;
    while (at + 1 < text.size() &&
           !((text[at] == 'A' || text[at] == 'a') && (text[at + 1] == 'T' || text[at + 1] == 't'))) {
      ++at;
    }
    if (at + 1 >= text.size()) {
      if (trace_) spdlog::info("host: ignored (no AT prefix) {}", modem::printable(text));
      continue;
    }
    const auto parsed = parse_at_command_line(std::string_view(text).substr(at));
    if (trace_) spdlog::info("host: {}", modem::printable(personality_->redact(text)));
    current_ = std::make_shared<Reply>(*this);
    current_started_ = std::max(arrived, model_now_);
    if (!parsed) {
      current_->error();
      continue;
    }
    // A read ("AT+QMTCONN?", a state query) is counted apart from the command it reads, so a test
    // counting connects or opens does not count the session's queries.
    ++commands_by_name_["AT" + parsed->name + (parsed->form == AtCommandLine::Form::kRead ? "?" : "")];
    const auto keep = current_;
    handling_input_ = true;
    personality_->handle(*parsed, keep);
    handling_input_ = false;
  }
}

void AtServer::finish(Reply& reply, std::string final_line) {
  if (current_.get() != &reply) return;  // a reply from before a reset
  std::string bytes;
  for (const std::string& l : reply.lines_)
    bytes += "\r\n" + l + "\r\n";
  bytes += "\r\n" + final_line + "\r\n";
  const auto generation = generation_;
  const auto when = answer_time();
  loop_.call_at(when, [this, generation, when, bytes = std::move(bytes)]() mutable {
    if (generation != generation_) return;
    model_now_ = when;
    if (!muted()) emit(std::move(bytes), when);
    current_.reset();
    flush_held_urcs(when);
    process_next();
  });
}

void AtServer::start_data_phase(Reply& reply, DataPhase phase) {
  if (current_.get() != &reply) return;
  const auto generation = generation_;
  const auto when = answer_time();
  loop_.call_at(when, [this, generation, when, phase = std::move(phase)]() mutable {
    if (generation != generation_) return;
    model_now_ = when;
    phase.id = ++data_phases_;
    if (phase.timeout) {
      loop_.cancel(phase.timer);
      phase.timer = loop_.call_at(when + *phase.timeout, [this, id = phase.id] { time_out_data_phase(id); });
    }
    const std::string intro = phase.intro;
    data_ = std::move(phase);
    emit(intro, when);
    if (data_->length && *data_->length == 0) end_data_phase();
  });
}

void AtServer::time_out_data_phase(std::uint64_t id) {
  if (!data_ || data_->id != id) return;
  DataPhase phase = std::move(*data_);
  data_.reset();
  model_now_ = loop_.clock().now();
  current_started_ = model_now_;
  if (trace_) spdlog::info("host: data phase timed out after {} of its bytes", phase.data.size());
  handling_input_ = true;
  if (phase.on_timeout) phase.on_timeout();
  handling_input_ = false;
}

void AtServer::end_data_phase() {
  if (!data_) return;
  DataPhase phase = std::move(*data_);
  data_.reset();
  loop_.cancel(phase.timer);
  // Processing the data takes the module its latency again before the result, from the moment
  // its last byte arrived.
  current_started_ = model_now_;
  if (trace_) spdlog::info("host: <{} data bytes> {}", phase.data.size(), modem::printable(phase.data, 64));
  handling_input_ = true;
  if (phase.on_data) phase.on_data(std::move(phase.data));
  handling_input_ = false;
}

void AtServer::urc(const std::string& line) {
  if (current_ || data_ || muted()) {
    held_urcs_.push_back(line);
    return;
  }
  emit("\r\n" + line + "\r\n", loop_.clock().now());
}

void AtServer::flush_held_urcs(modem::TimePoint at) {
  while (!held_urcs_.empty() && !current_ && !data_ && !muted()) {
    emit("\r\n" + held_urcs_.front() + "\r\n", at);
    held_urcs_.pop_front();
  }
}

void AtServer::emit(std::string bytes, modem::TimePoint at) {
  if (trace_ && bytes.size() > 1) spdlog::info("module: {}", modem::printable(bytes, 256));
  line_.send(bytes, at);
}

void AtServer::mute_for(modem::Duration duration) {
  muted_until_ = loop_.clock().now() + duration;
  partial_line_.clear();
  const auto generation = generation_;
  loop_.call_at(muted_until_, [this, generation] {
    if (generation != generation_ || muted()) return;
    flush_held_urcs(loop_.clock().now());
  });
}

void AtServer::reset() {
  ++generation_;
  partial_line_.clear();
  lines_.clear();
  current_.reset();
  if (data_) loop_.cancel(data_->timer);
  data_.reset();
  held_urcs_.clear();
  muted_until_ = {};
  echo_ = true;
  cmee_ = 1;
}

}  // namespace modemsim
