// The module's AT port as a ByteStream: a tty (ttyUSB*, ttyACM*, or a pty slave in tests) opened
// non-blocking, in raw 8N1 mode, so the AT engine sees exactly the bytes the module sent.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "modem/outcome.hpp"
#include "modem/transport/byte_stream.hpp"

namespace modem {

struct SerialConfig {
  int baud = 115200;
  bool rts_cts = false;
  // Refuse to share the port: a second reader would steal half of every response.
  bool exclusive = true;
};

class SerialPort final : public ByteStream {
 public:
  // Opens and configures `path`. Every failure is an Error whose message names the path and says
  // what to do about it (permissions, missing device, port held by another process, bad baud).
  static Outcome<std::unique_ptr<SerialPort>> open(const std::string& path, const SerialConfig& config);

  SerialPort(const SerialPort&) = delete;
  SerialPort& operator=(const SerialPort&) = delete;
  ~SerialPort() override;

  int fd() const override { return fd_; }
  // Never blocks. kClosed on hang-up or when the device vanished (USB unplug, pty master closed).
  IoResult read(char* buffer, std::size_t capacity) override;
  // Never blocks; may transfer fewer bytes than given (kOk with the count).
  IoResult write(std::string_view bytes) override;
  std::string name() const override { return path_; }

 private:
  SerialPort(int fd, std::string path);

  int fd_;
  std::string path_;
  bool exclusive_ = false;  // TIOCEXCL is set and must be cleared on close
};

}  // namespace modem
