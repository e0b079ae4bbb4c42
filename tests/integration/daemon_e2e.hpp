// The rig of cellmqttd's end-to-end tests (daemon_test.cpp, hostile_upstream_test.cpp): the real
// binary between a real local mosquitto and a real "upstream" mosquitto, modemsim as its module,
// and the helpers that account for messages byte for byte. Test code only: everything is inline.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/modemsim_process.hpp"
#include "support/mosquitto_broker.hpp"
#include "support/mqtt_test_client.hpp"

namespace e2e {

using namespace std::chrono_literals;
using namespace std::string_literals;
using test_support::BridgeSpec;
using test_support::DaemonProcess;
using test_support::DaemonSettings;
using test_support::ModemsimProcess;
using test_support::MosquittoBroker;
using test_support::MqttTestClient;
using test_support::ReceivedMessage;
using Clock = std::chrono::steady_clock;

// Hang guards, not timing assertions (DESIGN.md: performance is measured in bench/).
inline constexpr std::chrono::milliseconds kLimit = 60s;
inline constexpr std::chrono::milliseconds kLongLimit = 300s;

// ---- a small JSON reader, for the status document ----------------------------------------------

struct Json {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;

  const Json* get(const std::string& key) const {
    const auto it = object.find(key);
    return type == Type::kObject && it != object.end() ? &it->second : nullptr;
  }
};

// RFC 8259, strictly: the whole text must be one value, so a truncated or garbled document fails.
class JsonReader {
 public:
  static std::optional<Json> parse(std::string_view text) {
    JsonReader r(text);
    auto value = r.value();
    r.space();
    if (!value || r.at_ != text.size()) return std::nullopt;
    return value;
  }

 private:
  explicit JsonReader(std::string_view text) : text_(text) {}

  void space() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r'))
      ++at_;
  }
  bool literal(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  std::optional<Json> value() {
    if (++depth_ > 64) return std::nullopt;
    space();
    if (at_ >= text_.size()) return std::nullopt;
    Json j;
    const char c = text_[at_];
    if (c == '{') {
      j.type = Json::Type::kObject;
      ++at_;
      space();
      if (at_ < text_.size() && text_[at_] == '}') {
        ++at_;
      } else {
        for (;;) {
          space();
          auto key = string();
          space();
          if (!key || at_ >= text_.size() || text_[at_++] != ':') return std::nullopt;
          auto member = value();
          if (!member) return std::nullopt;
          j.object[*key] = std::move(*member);
          space();
          if (at_ < text_.size() && text_[at_] == ',') {
            ++at_;
            continue;
          }
          if (at_ < text_.size() && text_[at_] == '}') {
            ++at_;
            break;
          }
          return std::nullopt;
        }
      }
    } else if (c == '[') {
      j.type = Json::Type::kArray;
      ++at_;
      space();
      if (at_ < text_.size() && text_[at_] == ']') {
        ++at_;
      } else {
        for (;;) {
          auto element = value();
          if (!element) return std::nullopt;
          j.array.push_back(std::move(*element));
          space();
          if (at_ < text_.size() && text_[at_] == ',') {
            ++at_;
            continue;
          }
          if (at_ < text_.size() && text_[at_] == ']') {
            ++at_;
            break;
          }
          return std::nullopt;
        }
      }
    } else if (c == '"') {
      auto s = string();
      if (!s) return std::nullopt;
      j.type = Json::Type::kString;
      j.string = std::move(*s);
    } else if (literal("true")) {
      j.type = Json::Type::kBool;
      j.boolean = true;
    } else if (literal("false")) {
      j.type = Json::Type::kBool;
    } else if (literal("null")) {
      j.type = Json::Type::kNull;
    } else {
      auto n = number();
      if (!n) return std::nullopt;
      j.type = Json::Type::kNumber;
      j.number = *n;
    }
    --depth_;
    return j;
  }

  std::optional<double> number() {
    const std::size_t start = at_;
    auto digits = [&] {
      const std::size_t from = at_;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9')
        ++at_;
      return at_ > from;
    };
    if (at_ < text_.size() && text_[at_] == '-') ++at_;
    if (!digits()) return std::nullopt;
    if (at_ < text_.size() && text_[at_] == '.') {
      ++at_;
      if (!digits()) return std::nullopt;
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
      if (!digits()) return std::nullopt;
    }
    return std::stod(std::string(text_.substr(start, at_ - start)));
  }

  std::optional<std::string> string() {
    if (at_ >= text_.size() || text_[at_] != '"') return std::nullopt;
    ++at_;
    std::string out;
    while (at_ < text_.size()) {
      const char c = text_[at_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;  // must be escaped
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size()) return std::nullopt;
      const char e = text_[at_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          if (at_ + 4 > text_.size()) return std::nullopt;
          unsigned code = 0;
          for (int i = 0; i < 4; ++i) {
            const char h = text_[at_++];
            code <<= 4;
            if (h >= '0' && h <= '9') {
              code |= static_cast<unsigned>(h - '0');
            } else if (h >= 'a' && h <= 'f') {
              code |= static_cast<unsigned>(h - 'a' + 10);
            } else if (h >= 'A' && h <= 'F') {
              code |= static_cast<unsigned>(h - 'A' + 10);
            } else {
              return std::nullopt;
            }
          }
          // The status document only escapes control characters; anything wider is kept as UTF-8.
          if (code < 0x80) {
            out += static_cast<char>(code);
          } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
          }
          break;
        }
        default:
          return std::nullopt;
      }
    }
    return std::nullopt;
  }

  std::string_view text_;
  std::size_t at_ = 0;
  int depth_ = 0;
};

// ---- numbered messages -------------------------------------------------------------------------

// A payload that names its sequence number and carries bytes an AT line would choke on if the
// payload ever left the length-prefixed data phase.
inline std::string numbered_payload(int n) {
  char head[16];
  std::snprintf(head, sizeof head, "seq=%06d;", n);
  return head + "\"q\",\r\n\0|"s;
}

// A payload shown so that a failure message says which bytes differ.
inline std::string shown(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F && c != '\\') {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      out += buf;
    }
  }
  return out;
}

// Accounts for numbered messages arriving on one topic: which arrived, how often, and anything on
// that topic that is not one of them byte for byte.
// A known limit (README, "Known limits"): a daemon killed between AT+QMTPUBEX and its payload
// leaves the module in a length-prefixed data phase that nothing sent over the AT port can cancel;
// the next run's first bytes, its AT probes, become that publish's payload. Such a message is
// made of probe bytes only, and the daemon logs it.
inline bool is_probe_bytes(const std::string& payload) {
  return !payload.empty() && payload.find_first_not_of("AT\r\x1b") == std::string::npos;
}

class Ledger {
 public:
  Ledger(std::string topic, int count)
      : topic_(std::move(topic)), seen_(static_cast<std::size_t>(count), 0) {}

  // Takes the messages that arrived since the last call.
  void absorb(const std::vector<ReceivedMessage>& messages) {
    for (; next_ < messages.size(); ++next_) {
      const auto& m = messages[next_];
      if (m.topic != topic_) continue;
      int n = -1;
      if (m.payload.size() > 10 && m.payload.starts_with("seq=")) n = std::atoi(m.payload.c_str() + 4);
      if (n < 0 || n >= static_cast<int>(seen_.size()) || m.payload != numbered_payload(n)) {
        strays_.push_back(m.payload);
        continue;
      }
      if (seen_[static_cast<std::size_t>(n)]++ == 0) {
        ++distinct_;
      } else {
        ++duplicates_;
      }
    }
  }
  // Forget the client's earlier messages (a client object reused from message 0).
  void restart_at(std::size_t index) { next_ = index; }

  int distinct() const { return distinct_; }
  int duplicates() const { return duplicates_; }
  const std::vector<std::string>& strays() const { return strays_; }
  int times(int n) const { return seen_[static_cast<std::size_t>(n)]; }
  std::vector<int> missing() const {
    std::vector<int> out;
    for (std::size_t i = 0; i < seen_.size(); ++i) {
      if (seen_[i] == 0) out.push_back(static_cast<int>(i));
    }
    return out;
  }
  // The payloads that were not as sent, shown byte by byte, for a failure message.
  std::string describe_strays() const {
    std::string out = std::to_string(strays_.size()) + " not as sent:";
    for (std::size_t i = 0; i < strays_.size() && i < 20; ++i)
      out += "\n  [" + shown(strays_[i]) + "]";
    return out;
  }
  // "12 missing: 3 4 5 ..." for a failure message.
  std::string describe_missing() const {
    const auto m = missing();
    std::string out = std::to_string(m.size()) + " missing:";
    for (std::size_t i = 0; i < m.size() && i < 40; ++i)
      out += " " + std::to_string(m[i]);
    if (m.size() > 40) out += " ...";
    return out;
  }

 private:
  std::string topic_;
  std::vector<int> seen_;
  std::size_t next_ = 0;
  int distinct_ = 0;
  int duplicates_ = 0;
  std::vector<std::string> strays_;
};

// The index of the first message at or after `from` that `match` accepts, pumping the client
// until one arrives; nullopt at `limit` or if the connection is lost.
template <typename Match>
inline std::optional<std::size_t> wait_for_message(MqttTestClient& client, Match match, std::size_t from = 0,
                                                   std::chrono::milliseconds limit = kLimit) {
  const auto deadline = Clock::now() + limit;
  std::size_t scanned = from;
  for (;;) {
    const auto& messages = client.messages();
    for (; scanned < messages.size(); ++scanned) {
      if (match(messages[scanned])) return scanned;
    }
    if (Clock::now() >= deadline || !client.connected()) return std::nullopt;
    client.pump(50ms);
  }
}

inline std::optional<std::size_t> wait_for_topic(MqttTestClient& client, const std::string& topic,
                                                 std::size_t from = 0,
                                                 std::chrono::milliseconds limit = kLimit) {
  return wait_for_message(
      client, [&](const ReceivedMessage& m) { return m.topic == topic; }, from, limit);
}

inline int count_of(const std::vector<ReceivedMessage>& messages, const std::string& topic,
                    const std::string& payload) {
  return static_cast<int>(std::count_if(messages.begin(), messages.end(), [&](const ReceivedMessage& m) {
    return m.topic == topic && m.payload == payload;
  }));
}

inline std::string describe(const std::vector<ReceivedMessage>& messages) {
  std::string out;
  for (const auto& m : messages)
    out += "  " + m.topic + " [" + shown(m.payload) + "] qos " + std::to_string(m.qos) +
           (m.retain ? " retained" : "") + "\n";
  return out;
}

// The number after `"name":` in modemsim's stats JSON ("AT+QMTOPEN" counts are under "commands").
inline int stat(const std::string& stats_json, const std::string& name) {
  const auto json = JsonReader::parse(stats_json);
  if (!json) return -1;
  if (const Json* v = json->get(name); v != nullptr && v->type == Json::Type::kNumber)
    return static_cast<int>(v->number);
  if (const Json* commands = json->get("commands"); commands != nullptr) {
    if (const Json* v = commands->get(name); v != nullptr) return static_cast<int>(v->number);
    return 0;  // never sent
  }
  return -1;
}

inline std::string tail(const std::string& text, std::size_t lines) {
  std::size_t at = text.size();
  for (std::size_t n = 0; n <= lines && at > 0; ++n)
    at = text.rfind('\n', at - 1);
  return at == std::string::npos ? text : text.substr(at + 1);
}

inline test_support::BrokerOptions persistent_broker() {
  test_support::BrokerOptions options;
  options.persistence = true;
  options.max_queued_messages = 0;
  return options;
}

// ---- the rig -----------------------------------------------------------------------------------

// A parameter's words as a test name ("module mute for 8 s" -> "module_mute_for_8_s").
inline std::string test_name(std::string_view words) {
  std::string name;
  for (const char c : words)
    name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

class DaemonE2E : public ::testing::Test {
 protected:
  DaemonSettings settings(std::vector<BridgeSpec> bridges) {
    DaemonSettings s;
    s.modem_port = sim().link();
    s.local_port = local_.port();
    s.bridges = std::move(bridges);
    return s;
  }

  // Creates the daemon with `s` and starts it; returns once it said READY=1.
  void start_daemon(const DaemonSettings& s, test_support::DaemonStartOptions options = {}) {
    status_topic_ = s.status_topic;
    daemon_ = std::make_unique<DaemonProcess>(s);
    daemon_->start(options);
    ASSERT_TRUE(daemon_->wait_ready()) << daemon_->log();
  }

  // The test's view of the daemon's own status on the local broker.
  void watch_status() {
    monitor_.connect(local_.port(), "status-monitor");
    monitor_.subscribe(status_topic_, 1);
    monitor_.subscribe(status_topic_ + "/state", 1);
  }
  // Waits for "<status>/state" = `value` at or after message `from`; returns its index.
  std::optional<std::size_t> wait_state(const std::string& value, std::size_t from = 0,
                                        std::chrono::milliseconds limit = kLimit) {
    const std::string topic = status_topic_ + "/state";
    return wait_for_message(
        monitor_, [&](const ReceivedMessage& m) { return m.topic == topic && m.payload == value; }, from,
        limit);
  }
  // Waits for a status document that `match` accepts; returns it.
  std::optional<Json> wait_status_document(const std::function<bool(const Json&)>& match,
                                           std::chrono::milliseconds limit = kLimit) {
    std::optional<Json> found;
    wait_for_message(
        monitor_,
        [&](const ReceivedMessage& m) {
          if (m.topic != status_topic_) return false;
          auto json = JsonReader::parse(m.payload);
          if (!json || !match(*json)) return false;
          found = std::move(json);
          return true;
        },
        0, limit);
    return found;
  }

  void TearDown() override {
    if (!HasFailure()) return;
    if (daemon_) std::printf("---- cellmqttd log (last lines) ----\n%s\n", tail(daemon_->log(), 80).c_str());
    if (sim_) std::printf("---- modemsim log (last lines) ----\n%s\n", tail(sim_->log(), 30).c_str());
  }

  // modemsim as the module, started with `args` on first use.
  ModemsimProcess& sim(std::vector<std::string> args = {}) {
    if (!sim_) sim_.emplace(ModemsimProcess::start({upstream_.port(), std::move(args)}));
    return *sim_;
  }

  MosquittoBroker upstream_ = MosquittoBroker::start(persistent_broker());
  MosquittoBroker local_ = MosquittoBroker::start(persistent_broker());
  std::optional<ModemsimProcess> sim_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::string status_topic_ = "cellmqttd/status";
  MqttTestClient monitor_;
};

}  // namespace e2e
