#include "control_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace modemsim {

class ControlSocket::Connection final : public modem::EventSource {
 public:
  Connection(ControlSocket& owner, int fd) : owner_(owner), fd_(fd) {}
  ~Connection() override { ::close(fd_); }

  int poll_fd() const override { return fd_; }
  short poll_events() const override { return static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT)); }
  std::optional<modem::TimePoint> next_deadline() const override { return std::nullopt; }
  void dispatch(short revents) override {
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
      std::array<char, 1024> buffer{};
      const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return owner_.close_connection(this);
      if (n > 0) in_.append(buffer.data(), static_cast<std::size_t>(n));
      for (auto nl = in_.find('\n'); nl != std::string::npos; nl = in_.find('\n')) {
        std::string line = in_.substr(0, nl);
        in_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out_ += owner_.handler_(line) + "\n";
      }
    }
    if (!out_.empty()) {
      const ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n > 0) out_.erase(0, static_cast<std::size_t>(n));
    }
  }

 private:
  ControlSocket& owner_;
  int fd_;
  std::string in_;
  std::string out_;
};

modem::Outcome<std::unique_ptr<ControlSocket>> ControlSocket::listen(modem::EventLoop& loop,
                                                                     const std::string& path,
                                                                     Handler handler) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path))
    return modem::Error{path + ": control socket path too long", 0};
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return modem::Error{std::string("socket: ") + std::strerror(errno), errno};
  ::unlink(path.c_str());  // a socket left by a previous run that was killed
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 8) != 0) {
    const int err = errno;
    ::close(fd);
    return modem::Error{path + ": cannot listen: " + std::strerror(err), err};
  }
  auto socket = std::unique_ptr<ControlSocket>(new ControlSocket(loop, fd, path, std::move(handler)));
  loop.add(*socket);
  return socket;
}

ControlSocket::ControlSocket(modem::EventLoop& loop, int fd, std::string path, Handler handler)
    : loop_(loop), fd_(fd), path_(std::move(path)), handler_(std::move(handler)) {}

ControlSocket::~ControlSocket() {
  for (auto& c : connections_)
    loop_.remove(*c);
  loop_.remove(*this);
  ::close(fd_);
  ::unlink(path_.c_str());
}

short ControlSocket::poll_events() const {
  return POLLIN;
}

void ControlSocket::dispatch(short revents) {
  if (!(revents & POLLIN)) return;
  for (;;) {
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    connections_.push_back(std::make_unique<Connection>(*this, fd));
    loop_.add(*connections_.back());
  }
}

void ControlSocket::close_connection(Connection* connection) {
  loop_.remove(*connection);
  auto it = std::find_if(connections_.begin(), connections_.end(),
                         [&](const auto& c) { return c.get() == connection; });
  if (it == connections_.end()) return;
  // Called from the connection's own dispatch: destroy it on the next turn of the loop.
  std::shared_ptr<Connection> retired(std::move(*it));
  connections_.erase(it);
  loop_.call_after(modem::Duration::zero(), [retired] {});
}

}  // namespace modemsim
