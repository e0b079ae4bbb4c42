// What the daemon tells systemd, read from a notify socket of the test's own, as systemd reads
// it: one datagram per call, newline-separated assignments.
#include "notify.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>  // setenv
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include "support/temp_dir.hpp"

namespace cellmqttd {
namespace {

using namespace std::string_literals;

class NotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = (dir_.path() / "notify").string();
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    ASSERT_LT(path.size(), sizeof address.sun_path);
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
  }
  // The datagram sd_notify() put in the socket (it is there when sd_notify() returns).
  std::optional<std::string> datagram() {
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(n));
  }

  test_support::TempDir dir_;
  int fd_ = -1;
};

// A newline in STATUS= starts an assignment of its own: a device path or an error message that
// carries one (a [modem] port of "/dev/ttyUSB2\nREADY=1", say) must not be able to say READY=1,
// or anything else, to systemd. And systemd ignores a STATUS= that is not UTF-8.
TEST_F(NotifierTest, AStatusIsOneLineOfValidUtf8WhateverItHolds) {
  Notifier notifier;
  const std::string hostile =
      "waiting for the module: /dev/ttyUSB2\nREADY=1\nWATCHDOG=trigger\r\t\x1b[2J\xC2\x9B\xff\xC3(\0 "
      "Telef\xC3\xB3nica"s;
  notifier.ready(hostile);
  EXPECT_EQ(datagram(),
            "READY=1\nSTATUS=waiting for the module: /dev/ttyUSB2\\nREADY=1\\nWATCHDOG=trigger\\r\\t\\x1b[2J"
            "\\xc2\\x9b\\xff\\xc3(\\x00 Telef\xC3\xB3nica");
  notifier.status("spool 0\nSTOPPING=1");
  EXPECT_EQ(datagram(), "STATUS=spool 0\\nSTOPPING=1");
  notifier.status("connected to broker.example.com:1883 via EC200U, RSSI -71 dBm, spool 0");
  EXPECT_EQ(datagram(), "STATUS=connected to broker.example.com:1883 via EC200U, RSSI -71 dBm, spool 0");
}

}  // namespace
}  // namespace cellmqttd
