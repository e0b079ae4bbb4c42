// An in-memory ByteStream standing in for the module's serial port. The test queues what the
// "module" says; every read() hands out at most `chunk` bytes, so the AT engine sees the same
// bytes split every possible way (DESIGN.md: no test depends on how the kernel splits reads).
// A ScriptedPeer on top of it answers each command the host writes with the reply the script gives.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "modem/transport/byte_stream.hpp"

namespace test_support {

class ScriptedStream final : public modem::ByteStream {
 public:
  explicit ScriptedStream(std::size_t chunk = 4096) : chunk_(chunk) {}

  void set_chunk(std::size_t chunk) { chunk_ = chunk; }
  // Bytes the module sends.
  void push(std::string_view bytes) { inbound_.append(bytes); }
  bool has_inbound() const { return !inbound_.empty(); }
  // Everything the host wrote so far.
  const std::string& written() const { return written_; }
  void hang_up() { closed_ = true; }
  // Accept at most `n` more bytes before reporting would_block (a full kernel buffer).
  void limit_writes(std::size_t n) { write_budget_ = n; }

  int fd() const override { return closed_ ? -1 : 99; }
  modem::IoResult read(char* buffer, std::size_t capacity) override;
  modem::IoResult write(std::string_view bytes) override;
  std::string name() const override { return "scripted"; }

 private:
  std::size_t chunk_;
  std::string inbound_;
  std::string written_;
  std::size_t write_budget_ = static_cast<std::size_t>(-1);
  bool closed_ = false;
};

// Answers commands in order: when the host has written `expect`, the peer queues `reply`.
class ScriptedPeer {
 public:
  explicit ScriptedPeer(ScriptedStream& stream) : stream_(stream) {}

  ScriptedPeer& on(std::string expect, std::string reply);
  // Called by the test loop: queues the replies whose command has been written. Returns true if
  // something was queued. Records a failure if the host wrote something the script did not expect.
  bool answer();
  bool done() const { return next_ == steps_.size(); }
  // What the host wrote that no step accounted for (should stay empty).
  const std::string& unexpected() const { return unexpected_; }

 private:
  struct Step {
    std::string expect;
    std::string reply;
  };
  ScriptedStream& stream_;
  std::vector<Step> steps_;
  std::size_t next_ = 0;
  std::size_t consumed_ = 0;  // bytes of stream_.written() matched so far
  std::string unexpected_;
};

}  // namespace test_support
