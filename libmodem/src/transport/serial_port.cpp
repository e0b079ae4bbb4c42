#include "modem/transport/serial_port.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

namespace modem {
namespace {

struct BaudRate {
  int baud;
  speed_t speed;
};

// The rates termios has a constant for from 9600 up. Arbitrary rates would need termios2/BOTHER,
// which USB modems do not care about: their "serial" ports are virtual and ignore the speed anyway.
constexpr BaudRate kBaudRates[] = {
    {9600, B9600},       {19200, B19200},     {38400, B38400},     {57600, B57600},     {115200, B115200},
    {230400, B230400},   {460800, B460800},   {500000, B500000},   {576000, B576000},   {921600, B921600},
    {1000000, B1000000}, {1152000, B1152000}, {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000},
    {3000000, B3000000}, {3500000, B3500000}, {4000000, B4000000},
};

std::string errno_text(int err) {
  return std::system_category().message(err);
}

std::string supported_baud_rates() {
  std::string list;
  for (const BaudRate& rate : kBaudRates) {
    if (!list.empty()) list += ", ";
    list += std::to_string(rate.baud);
  }
  return list;
}

Error in_use_error(const std::string& path, int err) {
  return Error{path +
                   ": in use by another process (ModemManager? another cellmqttd?): stop it, or make "
                   "ModemManager ignore the module (udev ENV{ID_MM_DEVICE_IGNORE}=\"1\")",
               err};
}

Error not_a_tty_error(const std::string& path, int err) {
  return Error{path + ": not a serial port (no terminal behind it): check the configured device path", err};
}

// Maps the errno of a failed open() to what the person running the daemon has to do.
Error open_error(const std::string& path, int err) {
  switch (err) {
    case EACCES:
    case EPERM:
      return Error{path + ": permission denied: add the user to the dialout group (and log in again)", err};
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return Error{path + ": no such device: is the module plugged in / powered? (see `ls /dev/ttyUSB* " +
                       "/dev/ttyACM*` and dmesg)",
                   err};
    case EBUSY:
      return in_use_error(path, err);
    case ENOTTY:
      return not_a_tty_error(path, err);
    default:
      return Error{path + ": cannot open: " + errno_text(err), err};
  }
}

Error setup_error(const std::string& path, const char* step, int err) {
  if (err == ENOTTY || err == EINVAL) return not_a_tty_error(path, err);
  if (err == EIO || err == ENODEV || err == ENXIO) {
    return Error{path + ": the device went away while configuring it (" + step +
                     "): is the module resetting or unplugged?",
                 err};
  }
  return Error{path + ": " + step + " failed: " + errno_text(err), err};
}

}  // namespace

SerialPort::SerialPort(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

SerialPort::~SerialPort() {
  if (fd_ < 0) return;
  if (exclusive_) {
    // A pty slave's tty (and with it the TIOCEXCL flag) lives on after our close while the master
    // is open, which would lock every later non-root open out with EBUSY. Harmless on real ttys.
    ::ioctl(fd_, TIOCNXCL);
  }
  // No retry on EINTR: Linux releases the descriptor even then, and a retry could close a
  // descriptor another thread just got.
  ::close(fd_);
}

Outcome<std::unique_ptr<SerialPort>> SerialPort::open(const std::string& path, const SerialConfig& config) {
  // Check the rate before touching the device, so a configuration mistake has no side effects.
  const BaudRate* rate = nullptr;
  for (const BaudRate& candidate : kBaudRates) {
    if (candidate.baud == config.baud) rate = &candidate;
  }
  if (rate == nullptr) {
    return Error{path + ": unsupported baud rate " + std::to_string(config.baud) +
                     "; supported: " + supported_baud_rates(),
                 0};
  }

  // O_NOCTTY: the daemon must never acquire the modem as its controlling terminal (a hang-up would
  // then send it SIGHUP). O_NONBLOCK: open() does not wait for carrier detect, and all I/O is
  // driven by poll().
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return open_error(path, errno);
  // From here on the port object owns the descriptor, so every early return closes it.
  std::unique_ptr<SerialPort> port(new SerialPort(fd, path));

  if (config.exclusive) {
    // flock first: TIOCEXCL does not stop root (CAP_SYS_ADMIN bypasses it), so the advisory lock
    // is what makes a second cellmqttd fail. Taking it before TIOCEXCL also means a losing
    // instance leaves the winner's tty flags alone.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (err == EWOULDBLOCK) return in_use_error(path, err);
      return Error{path + ": cannot lock the port (flock): " + errno_text(err), err};
    }
    // TIOCEXCL keeps out non-root processes that do not flock (minicom, ModemManager probing).
    if (::ioctl(fd, TIOCEXCL) != 0) return setup_error(path, "TIOCEXCL", errno);
    port->exclusive_ = true;
  }

  termios tio{};
  if (::tcgetattr(fd, &tio) != 0) return setup_error(path, "tcgetattr", errno);
  // Raw: no echo, no CR/LF translation, no signal characters, no line buffering. A ^Z (0x1A) ends
  // an SMS or a data prompt and payloads may hold any byte, so nothing may be interpreted.
  ::cfmakeraw(&tio);
  // cfmakeraw leaves software flow control on input: IXOFF would inject XON/XOFF (0x11/0x13) into
  // the byte stream we send to the module.
  tio.c_iflag &= ~static_cast<tcflag_t>(IXOFF | IXANY);
  tio.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | CSTOPB | CRTSCTS);
  // CLOCAL: ignore modem control lines, or reads would stop when DCD drops (modules drive DCD for
  // data calls, not for the AT channel). CREAD: without it the receiver is off.
  tio.c_cflag |= CS8 | CLOCAL | CREAD;
  if (config.rts_cts) tio.c_cflag |= CRTSCTS;
  // VMIN=1, not 0: with VMIN=0 and VTIME=0 Linux's n_tty returns 0 from an empty tty even under
  // O_NONBLOCK, which is indistinguishable from a hang-up. With VMIN=1, O_NONBLOCK still makes
  // read() return at once, with EAGAIN when there is nothing, so 0 means hang-up and nothing else.
  // VTIME=0: no inter-byte timer; waiting is poll()'s job.
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  if (::cfsetispeed(&tio, rate->speed) != 0 || ::cfsetospeed(&tio, rate->speed) != 0) {
    return setup_error(path, "cfsetspeed", errno);
  }
  // tcsetattr is not read back to verify the speed: USB modem ports (option/usb_wwan) ignore it
  // and the kernel restores the old hardware bits, so a check would reject ports that work fine.
  if (::tcsetattr(fd, TCSANOW, &tio) != 0) return setup_error(path, "tcsetattr", errno);
  // Drop whatever the module said before we were listening (boot URCs, the tail of an answer to a
  // previous process): the AT engine must start at a line boundary it saw itself.
  if (::tcflush(fd, TCIFLUSH) != 0) return setup_error(path, "tcflush", errno);

  return port;
}

IoResult SerialPort::read(char* buffer, std::size_t capacity) {
  // A zero-length read() returns 0, which would be indistinguishable from a hang-up.
  if (capacity == 0) return IoResult::transferred(0);
  for (;;) {
    const ssize_t n = ::read(fd_, buffer, capacity);
    if (n > 0) return IoResult::transferred(static_cast<std::size_t>(n));
    // An idle tty gives EAGAIN (O_NONBLOCK, VMIN=1); 0 only comes from a hung-up tty.
    if (n == 0) return IoResult::closed();
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return IoResult::would_block();
    // EIO: the USB device was unplugged (the tty is hung up under us) or the pty master is gone.
    if (err == EIO) return IoResult::closed(err);
    return IoResult::failed(err);
  }
}

IoResult SerialPort::write(std::string_view bytes) {
  // Same reasoning as in read(): never let an empty write look like a hang-up.
  if (bytes.empty()) return IoResult::transferred(0);
  for (;;) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n > 0) return IoResult::transferred(static_cast<std::size_t>(n));
    if (n == 0) return IoResult::closed();
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return IoResult::would_block();
    // A hung-up tty fails writes with EIO.
    if (err == EIO) return IoResult::closed(err);
    return IoResult::failed(err);
  }
}

}  // namespace modem
