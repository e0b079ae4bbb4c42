// The control socket: a UNIX stream socket, one command a line, one answer line each
// ("ok", "err <reason>" or a JSON object). Several clients may be connected at once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "modem/outcome.hpp"
#include "modem/transport/event_loop.hpp"

namespace modemsim {

class ControlSocket final : public modem::EventSource {
 public:
  using Handler = std::function<std::string(std::string_view line)>;

  static modem::Outcome<std::unique_ptr<ControlSocket>> listen(modem::EventLoop& loop,
                                                               const std::string& path, Handler handler);
  ~ControlSocket() override;

  int poll_fd() const override { return fd_; }
  short poll_events() const override;
  std::optional<modem::TimePoint> next_deadline() const override { return std::nullopt; }
  void dispatch(short revents) override;

 private:
  class Connection;
  ControlSocket(modem::EventLoop& loop, int fd, std::string path, Handler handler);
  void close_connection(Connection* connection);

  modem::EventLoop& loop_;
  int fd_;
  std::string path_;
  Handler handler_;
  std::vector<std::unique_ptr<Connection>> connections_;
};

}  // namespace modemsim
