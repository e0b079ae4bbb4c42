#include "support/fake_quectel.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace test_support {

namespace {

std::string ok(std::string_view lines = {}) {
  std::string out;
  if (!lines.empty()) out = fmt::format("\r\n{}\r\n", lines);
  return out + "\r\nOK\r\n";
}

// The comma-separated fields after "=" (quotes kept), enough for the commands the fake answers.
std::vector<std::string> fields(const std::string& command) {
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

int number(const std::vector<std::string>& f, std::size_t i) {
  return i < f.size() ? std::atoi(f[i].c_str()) : 0;
}

}  // namespace

FakeQuectel::FakeQuectel(ScriptedStream& stream) : stream_(stream) {
  // The EC200U's answers to a bring-up (modemsim's personality; seed 001/002 for the QMT set).
  on("AT", ok());
  on("ATI", ok("Quectel\r\nEC200U\r\nRevision: EC200UCNAAR02A05M08"));
  on("AT+CGSN", ok("866123456789012"));
  on("AT+CPIN?", ok("+CPIN: READY"));
  on("AT+QCCID", ok("+QCCID: 89860318760239587428"));
  on("AT+CIMI", ok("460001234567890"));
  on("AT+CEREG?", ok("+CEREG: 2,1,\"1A2B\",\"01234567\",7"));
  on("AT+CGREG?", ok("+CGREG: 2,1,\"1A2B\",\"01234567\",7"));
  on("AT+QIACT?", ok("+QIACT: 1,1,1,\"10.64.12.7\""));
  on("AT+QMTDISC", "\r\nERROR\r\n");  // nothing left open from a previous life
  on("AT+QMTCLOSE", "\r\nERROR\r\n");
  on("AT+QMTOPEN=",
     [](const std::string& c) { return ok() + fmt::format("\r\n+QMTOPEN: {},0\r\n", number(fields(c), 0)); });
  on("AT+QMTCONN=", [](const std::string& c) {
    return ok() + fmt::format("\r\n+QMTCONN: {},0,0\r\n", number(fields(c), 0));
  });
  on("AT+QMTSUB=", [](const std::string& c) {
    const auto f = fields(c);
    return ok() + fmt::format("\r\n+QMTSUB: {},{},0,{}\r\n", number(f, 0), number(f, 1), number(f, 3));
  });
  on("AT+QMTUNS=", [](const std::string& c) {
    const auto f = fields(c);
    return ok() + fmt::format("\r\n+QMTUNS: {},{},0\r\n", number(f, 0), number(f, 1));
  });
  on("AT+CSQ", ok("+CSQ: 24,0"));
  on("AT+COPS?", ok("+COPS: 0,0,\"CHINA MOBILE\",7"));
  on("AT+QNWINFO", ok("+QNWINFO: \"FDD LTE\",\"46000\",\"LTE BAND 3\",1650"));
  on("AT+QMTRECV=", ok());  // nothing buffered
}

void FakeQuectel::on(const std::string& prefix, Reply reply) {
  replies_[prefix] = std::move(reply);
}

void FakeQuectel::on(const std::string& prefix, std::string reply) {
  replies_[prefix] = [reply = std::move(reply)](const std::string&) { return reply; };
}

void FakeQuectel::silent(const std::string& prefix) {
  replies_[prefix] = nullptr;
}

FakeQuectel::Reply* FakeQuectel::reply_for(const std::string& command) {
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

void FakeQuectel::ack_publishes() {
  for (const std::string& line : unacked_)
    stream_.push("\r\n" + line + "\r\n");
  unacked_.clear();
}

bool FakeQuectel::serve() {
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
        const auto f = fields(publish_command_);
        const std::string ack = fmt::format("+QMTPUBEX: {},{},0", number(f, 0), number(f, 1));
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
    if (command.starts_with("AT+QMTPUBEX=")) {
      const auto f = fields(command);
      payload_left_ = static_cast<std::size_t>(number(f, 5));
      payload_.clear();
      publish_command_ = command;
      stream_.push("\r\n> ");
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

std::size_t FakeQuectel::count(std::string_view prefix) const {
  std::size_t n = 0;
  for (const std::string& c : commands_)
    n += c.starts_with(prefix) ? 1 : 0;
  return n;
}

}  // namespace test_support
