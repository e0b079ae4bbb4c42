// modemsim: a virtual Quectel module on a pseudo-terminal. See options.cpp for the interface.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "control_socket.hpp"
#include "modem/transport/event_loop.hpp"
#include "options.hpp"
#include "sim_module.hpp"

namespace {

// SIGINT/SIGTERM end the loop, so the symlink and the control socket are removed on the way out.
class SignalSource final : public modem::EventSource {
 public:
  explicit SignalSource(modem::EventLoop& loop) : loop_(loop) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  }
  ~SignalSource() override { ::close(fd_); }
  int poll_fd() const override { return fd_; }
  short poll_events() const override { return POLLIN; }
  std::optional<modem::TimePoint> next_deadline() const override { return std::nullopt; }
  void dispatch(short) override {
    signalfd_siginfo info{};
    if (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) loop_.stop();
  }

 private:
  modem::EventLoop& loop_;
  int fd_ = -1;
};

struct Pty {
  int master = -1;
  int keeper = -1;  // our own slave fd: keeps the master from seeing a hang-up between host sessions
  std::string slave;
};

bool open_pty(Pty& pty) {
  pty.master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (pty.master < 0 || grantpt(pty.master) != 0 || unlockpt(pty.master) != 0) return false;
  std::array<char, 128> name{};
  if (ptsname_r(pty.master, name.data(), name.size()) != 0) return false;
  pty.slave = name.data();
  pty.keeper = ::open(pty.slave.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (pty.keeper < 0) return false;
  // Raw from the start: no echo, no CR/LF translation by the line discipline, whatever the host
  // sets later (a serial line does not rewrite bytes either).
  termios tio{};
  if (tcgetattr(pty.keeper, &tio) != 0) return false;
  cfmakeraw(&tio);
  return tcsetattr(pty.keeper, TCSANOW, &tio) == 0;
}

// Publishes the pty under `link` atomically: a reader never sees a half-made or stale link.
bool make_link(const std::string& slave, const std::string& link) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(fs::symlink_status(link, ec)) && !fs::is_symlink(fs::symlink_status(link, ec))) {
    spdlog::error("{} exists and is not a symlink: not replacing it", link);
    return false;
  }
  const std::string temporary = link + ".tmp" + std::to_string(::getpid());
  fs::remove(temporary, ec);
  fs::create_symlink(slave, temporary, ec);
  if (!ec) fs::rename(temporary, link, ec);
  if (ec) spdlog::error("cannot create {}: {}", link, ec.message());
  return !ec;
}

}  // namespace

int main(int argc, char** argv) {
  auto log = spdlog::stderr_color_mt("modemsim");
  spdlog::set_default_logger(log);
  auto parsed = modemsim::parse_options(argc, argv);
  if (!parsed) {
    std::fprintf(stderr, "modemsim: %s\n\n%s", parsed.error().message.c_str(), modemsim::kUsage);
    return 2;
  }
  if (parsed.value().help) {
    std::fputs(modemsim::kUsage, stdout);
    return 0;
  }
  const modemsim::SimOptions options = parsed.value().sim;
  // A broker that hangs up while a TLS handshake or close_notify is being written must not end the
  // module: OpenSSL writes to the socket without MSG_NOSIGNAL.
  ::signal(SIGPIPE, SIG_IGN);
  spdlog::set_level(options.verbose ? spdlog::level::info : spdlog::level::warn);

  Pty pty;
  if (!open_pty(pty)) {
    spdlog::error("cannot create a pseudo-terminal: {}", std::strerror(errno));
    return 1;
  }
  // modemsim is a timing model: each byte's arrival, each prompt and OK is a deadline. The kernel
  // lets a normal thread's timers fire up to 50 us late (timer slack), which over the four
  // deadlines of a publish would be time the model adds and the daemon's benchmark is charged.
  ::prctl(PR_SET_TIMERSLACK, 1UL);
  modem::SteadyClock clock;
  modem::EventLoop loop(clock);
  SignalSource signals(loop);
  loop.add(signals);
  modemsim::SimModule module(loop, pty.master, options);

  std::unique_ptr<modemsim::ControlSocket> control;
  if (!options.control.empty()) {
    auto listening = modemsim::ControlSocket::listen(
        loop, options.control, [&module](std::string_view line) { return module.control(line); });
    if (!listening) {
      spdlog::error("{}", listening.error().message);
      return 1;
    }
    control = std::move(listening).value();
  }

  bool linked = false;
  int exit_code = 0;
  module.power_on([&] {
    linked = make_link(pty.slave, options.link);
    if (!linked) {
      exit_code = 1;
      loop.stop();
      return;
    }
    std::fprintf(stderr, "modemsim: %s ready on %s (linked at %s), broker %s:%d\n",
                 module.description().c_str(), pty.slave.c_str(), options.link.c_str(),
                 options.broker_host.c_str(), options.broker_port);
  });
  loop.run();

  if (linked) {
    std::error_code ec;
    // Only remove the link if it is still ours (another modemsim may have taken the path since).
    if (std::filesystem::read_symlink(options.link, ec) == pty.slave)
      std::filesystem::remove(options.link, ec);
  }
  control.reset();
  return exit_code;
}
