// The transport layer's one abstraction: a non-blocking, bidirectional byte stream with a pollable
// file descriptor. The AT engine reads and writes through it and knows nothing of termios or USB.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace modem {

struct IoResult {
  enum class Status {
    kOk,          // `bytes` were transferred (> 0 unless the call asked for 0 bytes)
    kWouldBlock,  // nothing to read / no room to write now: wait for the fd
    kClosed,      // the peer is gone: hang-up, EOF, USB device unplugged
    kError,       // any other failure; `errnum` says which
  };
  Status status = Status::kOk;
  std::size_t bytes = 0;
  int errnum = 0;

  static IoResult transferred(std::size_t n) { return {Status::kOk, n, 0}; }
  static IoResult would_block() { return {Status::kWouldBlock, 0, 0}; }
  static IoResult closed(int err = 0) { return {Status::kClosed, 0, err}; }
  static IoResult failed(int err) { return {Status::kError, 0, err}; }
};

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // The descriptor to poll for readability/writability; -1 once closed.
  virtual int fd() const = 0;
  virtual IoResult read(char* buffer, std::size_t capacity) = 0;
  virtual IoResult write(std::string_view bytes) = 0;
  // A name for log lines, e.g. the device path.
  virtual std::string name() const = 0;
};

}  // namespace modem
