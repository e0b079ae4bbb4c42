// A scripted Quectel module for unit tests of the session: it answers every command of a bring-up
// the way an EC200U does (the replies modemsim and the application notes give), which a test may
// override by command prefix; it takes a publish's payload after the "> " prompt and acknowledges
// it (or not); and the test makes it say things unprompted (URCs, RDY) or go silent. It runs on a
// ScriptedStream, so no pseudo-terminal and no real time are involved: the session is driven by a
// ManualClock and every byte either way can be inspected.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "support/scripted_stream.hpp"

namespace test_support {

class FakeQuectel {
 public:
  // What the module answers to one command line (without its CR): the bytes it sends back.
  using Reply = std::function<std::string(const std::string& command)>;

  explicit FakeQuectel(ScriptedStream& stream);

  // Answer commands that start with `prefix` (the longest matching prefix wins) with `reply`.
  void on(const std::string& prefix, Reply reply);
  void on(const std::string& prefix, std::string reply);
  // Never answer commands that start with `prefix`.
  void silent(const std::string& prefix);
  // Acknowledge publishes (+QMTPUBEX: <idx>,<msgid>,0) as soon as their payload is in (default
  // true); when false they wait for ack_publishes().
  void set_auto_ack(bool on) { auto_ack_ = on; }
  void ack_publishes();

  // Reads what the host wrote since the last call and queues the replies. True if anything was read.
  bool serve();

  // Every command line the host sent, in order, and the payloads of publishes.
  const std::vector<std::string>& commands() const { return commands_; }
  const std::vector<std::string>& payloads() const { return payloads_; }
  std::size_t count(std::string_view prefix) const;
  void say(std::string_view bytes) { stream_.push(bytes); }

 private:
  Reply* reply_for(const std::string& command);

  ScriptedStream& stream_;
  std::map<std::string, Reply> replies_;
  std::size_t consumed_ = 0;
  std::size_t payload_left_ = 0;  // > 0: the host is writing a publish's payload
  std::string payload_;
  std::string publish_command_;
  bool auto_ack_ = true;
  std::vector<std::string> unacked_;  // "+QMTPUBEX: 0,<msgid>,0" lines held back
  std::vector<std::string> commands_;
  std::vector<std::string> payloads_;
};

}  // namespace test_support
