// SerialPort against a pseudo-terminal: the slave is the "device", the test plays the module on
// the master.
#include "modem/transport/serial_port.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <termios.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "support/pty_pair.hpp"

namespace modem {
namespace {

using std::chrono::milliseconds;
using test_support::PtyPair;
using test_support::read_master_until;
using test_support::write_all;

// Safety net against a hanging test, never reached when things work.
constexpr milliseconds kHangLimit{5000};

std::unique_ptr<SerialPort> open_or_fail(const std::string& path, const SerialConfig& config = {}) {
  auto opened = SerialPort::open(path, config);
  if (!opened) ADD_FAILURE() << "open failed: " << opened.error().message;
  return opened ? std::move(opened).value() : nullptr;
}

// Reads from the port, polling its fd, until n bytes arrived or the hang limit passed.
std::string read_port_until(SerialPort& port, std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + kHangLimit;
  std::string received;
  char buffer[512];
  while (received.size() < n && std::chrono::steady_clock::now() < deadline) {
    const IoResult result = port.read(buffer, sizeof buffer);
    if (result.status == IoResult::Status::kOk) {
      received.append(buffer, result.bytes);
    } else if (result.status == IoResult::Status::kWouldBlock) {
      pollfd pfd{port.fd(), POLLIN, 0};
      ::poll(&pfd, 1, 100);
    } else {
      ADD_FAILURE() << "read failed, status " << static_cast<int>(result.status);
      break;
    }
  }
  return received;
}

void write_port_all(SerialPort& port, std::string_view bytes) {
  const auto deadline = std::chrono::steady_clock::now() + kHangLimit;
  while (!bytes.empty() && std::chrono::steady_clock::now() < deadline) {
    const IoResult result = port.write(bytes);
    if (result.status == IoResult::Status::kOk) {
      bytes.remove_prefix(result.bytes);
    } else if (result.status == IoResult::Status::kWouldBlock) {
      pollfd pfd{port.fd(), POLLOUT, 0};
      ::poll(&pfd, 1, 100);
    } else {
      ADD_FAILURE() << "write failed, status " << static_cast<int>(result.status);
      return;
    }
  }
  EXPECT_TRUE(bytes.empty()) << "write did not finish";
}

// PtyPair makes the slave raw; undo that (through the master) so that only SerialPort::open can
// be what makes the port raw again. Cooked mode echoes, maps CR/LF, swallows XON/XOFF and signal
// characters, strips bit 7 and buffers until a newline.
void make_slave_cooked(int master_fd) {
  termios tio{};
  ASSERT_EQ(::tcgetattr(master_fd, &tio), 0);
  tio.c_iflag |= ICRNL | INLCR | IXON | IXOFF | ISTRIP;
  tio.c_oflag |= OPOST | ONLCR;
  tio.c_lflag |= ECHO | ECHOE | ICANON | ISIG | IEXTEN;
  tio.c_cflag &= ~static_cast<tcflag_t>(CSIZE);
  tio.c_cflag |= CS7 | PARENB | CSTOPB | CRTSCTS;
  tio.c_cc[VMIN] = 0;
  tio.c_cc[VTIME] = 5;
  ASSERT_EQ(::tcsetattr(master_fd, TCSANOW, &tio), 0);
}

termios slave_termios(const SerialPort& port) {
  termios tio{};
  EXPECT_EQ(::tcgetattr(port.fd(), &tio), 0);
  return tio;
}

TEST(SerialPortTest, PassesEveryByteUnchangedInBothDirections) {
  PtyPair pty = PtyPair::open();
  make_slave_cooked(pty.master_fd());
  auto port = open_or_fail(pty.slave_path());
  ASSERT_NE(port, nullptr);

  // CR, LF, NUL, 0xFF, ^Z (ends an SMS / data prompt), XON/XOFF, ^C, DEL: every byte value.
  std::string request = "AT+QMTPUBEX=0,0,0,0,\"t\",5\r\n";
  for (int b = 0; b < 256; ++b) {
    request.push_back(static_cast<char>(b));
  }
  request += "\r\n\x1a";
  write_all(pty.master_fd(), request);
  EXPECT_EQ(read_port_until(*port, request.size()), request);

  // The reply differs from the request: with echo on, the master would read the echoed request
  // first and the comparison would fail.
  std::string reply(request.rbegin(), request.rend());
  write_port_all(*port, reply);
  EXPECT_EQ(read_master_until(pty.master_fd(), reply.size(), kHangLimit), reply);
}

TEST(SerialPortTest, ReadOnEmptyPortWouldBlock) {
  PtyPair pty = PtyPair::open();
  auto port = open_or_fail(pty.slave_path());
  ASSERT_NE(port, nullptr);

  // Checked first so that a blocking descriptor fails the test instead of hanging it.
  const int flags = ::fcntl(port->fd(), F_GETFL);
  ASSERT_NE(flags, -1);
  ASSERT_NE(flags & O_NONBLOCK, 0);
  char buffer[16];
  EXPECT_EQ(port->read(buffer, sizeof buffer).status, IoResult::Status::kWouldBlock);
}

TEST(SerialPortTest, DropsInputThatArrivedBeforeOpen) {
  PtyPair pty = PtyPair::open();
  write_all(pty.master_fd(), "\r\nRDY\r\n");
  auto port = open_or_fail(pty.slave_path());
  ASSERT_NE(port, nullptr);

  write_all(pty.master_fd(), "OK\r\n");
  EXPECT_EQ(read_port_until(*port, 4), "OK\r\n");
}

TEST(SerialPortTest, SecondExclusiveOpenFailsAsInUse) {
  PtyPair pty = PtyPair::open();
  auto first = open_or_fail(pty.slave_path());
  ASSERT_NE(first, nullptr);

  auto second = SerialPort::open(pty.slave_path(), SerialConfig{});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("in use"), std::string::npos) << second.error().message;
  EXPECT_NE(second.error().message.find(pty.slave_path()), std::string::npos) << second.error().message;
}

TEST(SerialPortTest, ClosingReleasesTheExclusiveClaim) {
  PtyPair pty = PtyPair::open();
  auto first = open_or_fail(pty.slave_path());
  ASSERT_NE(first, nullptr);
  first.reset();

  auto again = SerialPort::open(pty.slave_path(), SerialConfig{});
  EXPECT_TRUE(again.ok()) << again.error().message;
}

TEST(SerialPortTest, NonExclusiveOpensMayShareThePort) {
  PtyPair pty = PtyPair::open();
  SerialConfig shared;
  shared.exclusive = false;
  auto first = open_or_fail(pty.slave_path(), shared);
  ASSERT_NE(first, nullptr);

  auto second = SerialPort::open(pty.slave_path(), shared);
  EXPECT_TRUE(second.ok()) << second.error().message;
}

TEST(SerialPortTest, ReportsClosedWhenTheDeviceVanishes) {
  PtyPair pty = PtyPair::open();
  auto port = open_or_fail(pty.slave_path());
  ASSERT_NE(port, nullptr);

  pty.close_master();
  char buffer[16];
  EXPECT_EQ(port->read(buffer, sizeof buffer).status, IoResult::Status::kClosed);
  EXPECT_EQ(port->write("AT\r").status, IoResult::Status::kClosed);
}

TEST(SerialPortTest, NonexistentPathErrorNamesThePath) {
  const std::string path = "/dev/cellmqtt-test-no-such-tty";
  auto opened = SerialPort::open(path, SerialConfig{});
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find(path), std::string::npos) << opened.error().message;
  EXPECT_NE(opened.error().message.find("no such device"), std::string::npos) << opened.error().message;
  EXPECT_EQ(opened.error().errnum, ENOENT);
}

TEST(SerialPortTest, UnsupportedBaudIsAnErrorListingTheSupportedRates) {
  PtyPair pty = PtyPair::open();
  SerialConfig config;
  config.baud = 123;
  auto opened = SerialPort::open(pty.slave_path(), config);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("123"), std::string::npos) << opened.error().message;
  EXPECT_NE(opened.error().message.find("115200"), std::string::npos) << opened.error().message;
}

TEST(SerialPortTest, AppliesRaw8N1WithoutFlowControlByDefault) {
  PtyPair pty = PtyPair::open();
  make_slave_cooked(pty.master_fd());
  auto port = open_or_fail(pty.slave_path());
  ASSERT_NE(port, nullptr);

  const termios tio = slave_termios(*port);
  EXPECT_EQ(tio.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
  EXPECT_EQ(tio.c_cflag & PARENB, 0u);
  EXPECT_EQ(tio.c_cflag & CSTOPB, 0u);
  EXPECT_EQ(tio.c_cflag & CRTSCTS, 0u);
  EXPECT_NE(tio.c_cflag & CLOCAL, 0u);
  EXPECT_NE(tio.c_cflag & CREAD, 0u);
  EXPECT_EQ(tio.c_iflag & (IXON | IXOFF), 0u);
  EXPECT_EQ(tio.c_lflag & (ICANON | ECHO | ISIG), 0u);
  // VMIN=1 (with O_NONBLOCK) so an empty read is EAGAIN, never the 0 that means hang-up.
  EXPECT_EQ(tio.c_cc[VMIN], 1);
  EXPECT_EQ(tio.c_cc[VTIME], 0);
}

TEST(SerialPortTest, EnablesHardwareFlowControlWhenAsked) {
  PtyPair pty = PtyPair::open();
  SerialConfig config;
  config.rts_cts = true;
  auto port = open_or_fail(pty.slave_path(), config);
  ASSERT_NE(port, nullptr);

  EXPECT_NE(slave_termios(*port).c_cflag & CRTSCTS, 0u);
}

struct BaudCase {
  int baud;
  speed_t speed;
};
void PrintTo(const BaudCase& c, std::ostream* os) {
  *os << c.baud;
}

class SerialPortBaudTest : public testing::TestWithParam<BaudCase> {};

TEST_P(SerialPortBaudTest, AppliesTheConfiguredBaud) {
  PtyPair pty = PtyPair::open();
  SerialConfig config;
  config.baud = GetParam().baud;
  auto port = open_or_fail(pty.slave_path(), config);
  ASSERT_NE(port, nullptr);

  const termios tio = slave_termios(*port);
  EXPECT_EQ(::cfgetospeed(&tio), GetParam().speed);
  EXPECT_EQ(::cfgetispeed(&tio), GetParam().speed);
}

// A pty slave starts at 38400, so both cases show a change.
INSTANTIATE_TEST_SUITE_P(Rates, SerialPortBaudTest,
                         testing::Values(BaudCase{115200, B115200}, BaudCase{921600, B921600}),
                         [](const testing::TestParamInfo<BaudCase>& info) {
                           return std::to_string(info.param.baud);
                         });

}  // namespace
}  // namespace modem
