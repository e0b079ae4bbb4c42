// A scripted module for unit tests of the session: it answers each command by the longest
// matching prefix in its reply table, takes a data phase's payload after the "> " prompt and
// acknowledges it (or holds the acknowledgement), and the test makes it say things unprompted
// (URCs, RDY) or go silent. It knows no family: FakeQuectel fills the table as an EC200U answers,
// fake_dialect.hpp as the tests' fake family does. It runs on a ScriptedStream, so no
// pseudo-terminal and no real time are involved, and every byte either way can be inspected.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "support/scripted_stream.hpp"

namespace test_support {

// "\r\n<lines>\r\n\r\nOK\r\n", or just the OK.
std::string ok_reply(std::string_view lines = {});
// The comma-separated fields after "=" (quotes kept), and one of them as a number (0 if absent).
std::vector<std::string> command_fields(const std::string& command);
int field_number(const std::vector<std::string>& fields, std::size_t index);

class FakeModule {
 public:
  // What the module answers to one command line (without its CR): the bytes it sends back.
  using Reply = std::function<std::string(const std::string& command)>;
  // A command with a data phase: how many payload bytes follow its prompt, and the line that
  // acknowledges the payload once it is in (after the OK).
  struct DataPhase {
    std::function<std::size_t(const std::string& command)> length;
    std::function<std::string(const std::string& command)> acknowledgement;
    std::string prompt = "\r\n> ";       // "\r\nCONNECT\r\n" for Quectel's AT+QFUPL
    bool acknowledge_before_ok = false;  // "+QFUPL: <size>,<checksum>" comes before OK
    // What the module answers instead of the prompt when it refuses the command ("" = it does not).
    std::function<std::string(const std::string& command)> refusal = {};
  };

  explicit FakeModule(ScriptedStream& stream) : stream_(stream) {}

  // Answer commands that start with `prefix` (the longest matching prefix wins) with `reply`.
  void on(const std::string& prefix, Reply reply);
  void on(const std::string& prefix, std::string reply);
  // Commands starting with `prefix` get the "> " prompt and then a payload.
  void on_data(const std::string& prefix, DataPhase phase);
  // Never answer commands that start with `prefix`.
  void silent(const std::string& prefix);
  // Forget every reply (a test that builds the module's answers from nothing).
  void clear() {
    replies_.clear();
    data_phases_.clear();
  }
  // Acknowledge payloads as soon as they are in (default true); when false they wait for
  // ack_publishes().
  void set_auto_ack(bool on) { auto_ack_ = on; }
  void ack_publishes();

  // Reads what the host wrote since the last call and queues the replies. True if anything was read.
  bool serve();

  // Every command line the host sent, in order, and the payloads of data phases.
  const std::vector<std::string>& commands() const { return commands_; }
  const std::vector<std::string>& payloads() const { return payloads_; }
  std::size_t count(std::string_view prefix) const;
  void say(std::string_view bytes) { stream_.push(bytes); }

 private:
  Reply* reply_for(const std::string& command);
  const DataPhase* data_phase_for(const std::string& command) const;

  ScriptedStream& stream_;
  std::map<std::string, Reply> replies_;
  std::map<std::string, DataPhase> data_phases_;
  std::size_t consumed_ = 0;
  std::size_t payload_left_ = 0;  // > 0: the host is writing a payload
  std::string payload_;
  std::string data_command_;
  const DataPhase* data_phase_ = nullptr;
  bool auto_ack_ = true;
  std::vector<std::string> unacked_;  // acknowledgements held back
  std::vector<std::string> commands_;
  std::vector<std::string> payloads_;
};

}  // namespace test_support
