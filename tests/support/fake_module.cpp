#include "support/fake_module.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace test_support {

std::string ok_reply(std::string_view lines) {
  std::string out;
  if (!lines.empty()) out = fmt::format("\r\n{}\r\n", lines);
  return out + "\r\nOK\r\n";
}

std::vector<std::string> command_fields(const std::string& command) {
  std::vector<std::string> out;
  const auto eq = command.find('=');
  if (eq == std::string::npos) return out;
  std::string field;
  bool quoted = false;
  for (std::size_t i = eq + 1; i < command.size(); ++i) {
    const char c = command[i];
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      out.push_back(field);
      field.clear();
    } else {
      field += c;
    }
  }
  out.push_back(field);
  return out;
}

int field_number(const std::vector<std::string>& fields, std::size_t index) {
  return index < fields.size() ? std::atoi(fields[index].c_str()) : 0;
}

void FakeModule::on(const std::string& prefix, Reply reply) {
  replies_[prefix] = std::move(reply);
}

void FakeModule::on(const std::string& prefix, std::string reply) {
  replies_[prefix] = [reply = std::move(reply)](const std::string&) { return reply; };
}

void FakeModule::on_data(const std::string& prefix, DataPhase phase) {
  data_phases_[prefix] = std::move(phase);
}

void FakeModule::silent(const std::string& prefix) {
  replies_[prefix] = nullptr;
}

FakeModule::Reply* FakeModule::reply_for(const std::string& command) {
  Reply* best = nullptr;
  std::size_t best_size = 0;
  for (auto& [prefix, reply] : replies_) {
    if (command.starts_with(prefix) && (best == nullptr || prefix.size() >= best_size)) {
      best = &reply;
      best_size = prefix.size();
    }
  }
  return best;
}

const FakeModule::DataPhase* FakeModule::data_phase_for(const std::string& command) const {
  for (const auto& [prefix, phase] : data_phases_) {
    if (command.starts_with(prefix)) return &phase;
  }
  return nullptr;
}

void FakeModule::ack_publishes() {
  for (const std::string& line : unacked_)
    stream_.push("\r\n" + line + "\r\n");
  unacked_.clear();
}

bool FakeModule::serve() {
  const std::string& written = stream_.written();
  bool read = false;
  while (consumed_ < written.size()) {
    read = true;
    if (payload_left_ > 0) {
      const std::size_t n = std::min(payload_left_, written.size() - consumed_);
      payload_.append(written, consumed_, n);
      consumed_ += n;
      payload_left_ -= n;
      if (payload_left_ == 0) {
        payloads_.push_back(payload_);
        const std::string ack = data_phase_->acknowledgement(data_command_);
        if (data_phase_->acknowledge_before_ok) {
          stream_.push("\r\n" + ack + "\r\n\r\nOK\r\n");
          continue;
        }
        stream_.push("\r\nOK\r\n");
        if (auto_ack_) {
          stream_.push("\r\n" + ack + "\r\n");
        } else {
          unacked_.push_back(ack);
        }
      }
      continue;
    }
    const auto cr = written.find('\r', consumed_);
    if (cr == std::string::npos) break;
    std::string command = written.substr(consumed_, cr - consumed_);
    consumed_ = cr + 1;
    // A probe after a timeout starts with ESC (channel.cpp): the module ignores it.
    if (!command.empty() && command.front() == '\x1b') command.erase(0, 1);
    commands_.push_back(command);
    if (const DataPhase* phase = data_phase_for(command)) {
      if (phase->refusal) {
        if (std::string no = phase->refusal(command); !no.empty()) {
          stream_.push(no);
          continue;
        }
      }
      data_phase_ = phase;
      data_command_ = command;
      payload_left_ = phase->length(command);
      payload_.clear();
      stream_.push(phase->prompt);
      if (payload_left_ == 0) {
        payloads_.emplace_back();
        stream_.push("\r\nOK\r\n");
      }
      continue;
    }
    Reply* reply = reply_for(command);
    if (reply != nullptr && *reply) stream_.push((*reply)(command));
  }
  return read;
}

std::size_t FakeModule::count(std::string_view prefix) const {
  std::size_t n = 0;
  for (const std::string& c : commands_)
    n += c.starts_with(prefix) ? 1 : 0;
  return n;
}

}  // namespace test_support
