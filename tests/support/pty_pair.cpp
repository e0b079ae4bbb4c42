#include "pty_pair.hpp"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>  // posix_openpt, grantpt, unlockpt, ptsname_r
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace test_support {
namespace {

[[noreturn]] void throw_errno(const std::string& what, int err) {
  throw std::runtime_error(what + ": " + std::system_category().message(err));
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

PtyPair PtyPair::open() {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (master < 0) throw_errno("posix_openpt", errno);
  PtyPair pair(master, {});  // owns the master from here on, so a throw below closes it

  if (::grantpt(master) != 0) throw_errno("grantpt", errno);
  if (::unlockpt(master) != 0) throw_errno("unlockpt", errno);
  std::array<char, 128> name{};
  if (const int err = ::ptsname_r(master, name.data(), name.size()); err != 0) throw_errno("ptsname_r", err);
  pair.slave_path_ = name.data();

  // On Linux the termios ioctls on a master act on the slave, so the slave can be made raw before
  // anyone opens it. Its default is cooked (ECHO, ICRNL, ONLCR), which would echo the test's bytes
  // back and turn \n into \r\n; the master side itself is always raw.
  termios tio{};
  if (::tcgetattr(master, &tio) != 0) throw_errno("tcgetattr on pty master", errno);
  ::cfmakeraw(&tio);
  if (::tcsetattr(master, TCSANOW, &tio) != 0) throw_errno("tcsetattr on pty master", errno);
  return pair;
}

PtyPair::PtyPair(int master_fd, std::string slave_path)
    : master_fd_(master_fd), slave_path_(std::move(slave_path)) {}

PtyPair::PtyPair(PtyPair&& other) noexcept
    : master_fd_(std::exchange(other.master_fd_, -1)), slave_path_(std::move(other.slave_path_)) {}

PtyPair& PtyPair::operator=(PtyPair&& other) noexcept {
  if (this != &other) {
    close_master();
    master_fd_ = std::exchange(other.master_fd_, -1);
    slave_path_ = std::move(other.slave_path_);
  }
  return *this;
}

PtyPair::~PtyPair() {
  close_master();
}

void PtyPair::close_master() {
  if (master_fd_ < 0) return;
  ::close(master_fd_);
  master_fd_ = -1;
}

std::string read_master_until(int master_fd, std::size_t n_bytes, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string received;
  std::array<char, 4096> buffer{};
  while (received.size() < n_bytes) {
    const ssize_t n = ::read(master_fd, buffer.data(), std::min(buffer.size(), n_bytes - received.size()));
    if (n > 0) {
      received.append(buffer.data(), static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) break;
    const int err = errno;
    if (err == EINTR) continue;
    // A master whose slave has been closed reads EIO once drained: nothing more will come.
    if (err == EIO) break;
    if (err != EAGAIN) throw_errno("read from pty master", err);
    const int wait_ms = remaining_ms(deadline);
    if (wait_ms == 0) break;
    pollfd pfd{master_fd, POLLIN, 0};
    if (::poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) throw_errno("poll on pty master", errno);
  }
  return received;
}

void write_all(int fd, std::string_view bytes) {
  constexpr std::chrono::seconds kHangLimit{10};
  const auto deadline = std::chrono::steady_clock::now() + kHangLimit;
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    const int err = n < 0 ? errno : EAGAIN;
    if (err == EINTR) continue;
    if (err != EAGAIN) throw_errno("write", err);
    const int wait_ms = remaining_ms(deadline);
    if (wait_ms == 0) throw std::runtime_error("write: fd stayed unwritable, giving up");
    pollfd pfd{fd, POLLOUT, 0};
    if (::poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) throw_errno("poll for writing", errno);
  }
}

}  // namespace test_support
