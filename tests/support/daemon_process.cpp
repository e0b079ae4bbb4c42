#include "support/daemon_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

extern char** environ;

namespace test_support {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kKillLimit(10'000);

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::system_category().message(errno));
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

std::string read_file(const std::string& path, std::size_t from = 0) {
  std::ifstream in(path, std::ios::binary);
  if (from > 0) in.seekg(static_cast<std::streamoff>(from));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string make_temp_dir(const char* name) {
  std::string templ = (fs::temp_directory_path() / name).string() + "-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) throw_errno("mkdtemp");
  return templ;
}

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C", so C++ cannot link pidfd_open.
int open_pidfd(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

ExitStatus exit_status_of(int wait_status) {
  ExitStatus s;
  if (WIFEXITED(wait_status)) {
    s.exited = true;
    s.code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    s.signal = WTERMSIG(wait_status);
  }
  return s;
}

// The environment the daemon gets: ours, without anything systemd-ish that could make it talk to
// the real service manager or journal (JOURNAL_STREAM), plus `extra`.
std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    bool dropped = false;
    for (const std::string_view name : {"NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID=",
                                        "JOURNAL_STREAM=", "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES="}) {
      dropped = dropped || entry.starts_with(name);
    }
    if (!dropped) env.emplace_back(entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// Starts `args` with `env`, stdin from /dev/null, stdout and stderr appended to the given files,
// and no other fd (a daemon that inherited one of the test's broker connections would keep it
// alive). The child dies with the test process, so a crashed test leaves no daemon behind.
// `pid_slot`: an entry of `env` ending in room for digits that the child fills in with its own pid
// (WATCHDOG_PID): between fork and exec only async-signal-safe code runs, so no setenv() there.
pid_t spawn(const std::vector<std::string>& args, std::vector<std::string> env, const std::string& out_path,
            const std::string& err_path, std::optional<std::size_t> pid_slot) {
  std::vector<char*> argv;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  char* pid_digits = pid_slot ? env[*pid_slot].data() + env[*pid_slot].find('=') + 1 : nullptr;

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the test died before prctl took effect
    if (pid_digits != nullptr) {
      char reversed[24];
      int n = 0;
      for (pid_t self = ::getpid(); self > 0; self /= 10)
        reversed[n++] = static_cast<char>('0' + self % 10);
      for (int i = 0; i < n; ++i)
        pid_digits[i] = reversed[n - 1 - i];
      pid_digits[n] = '\0';
    }
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || err < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0)
      ::_exit(127);
    ::close_range(3, ~0U, 0);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

std::string ExitStatus::describe() const {
  if (exited) return "exit code " + std::to_string(code);
  return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
}

std::string daemon_config_toml(const DaemonSettings& s, const std::string& spool_path) {
  std::ostringstream t;
  t << "# written by the end-to-end tests (tests/support/daemon_process.cpp)\n"
    << "[modem]\n"
    << "port = " << toml_string(s.modem_port) << "\n\n"
    << "[cellular]\n"
    << "apn = \"internet\"\n\n"
    << "[upstream]\n"
    << "host = \"broker.example.com\"  # modemsim connects wherever it is told to (--broker)\n"
    << "port = 1883\n"
    << "client_id = " << toml_string(s.upstream_client_id) << "\n";
  if (s.keepalive_s > 0) t << "keepalive_s = " << s.keepalive_s << "\n";
  t << "\n"
    << "[local]\n"
    << "host = \"127.0.0.1\"\n"
    << "port = " << s.local_port << "\n"
    << "client_id = " << toml_string(s.local_client_id) << "\n\n";
  for (const auto& b : s.bridges) {
    t << "[[bridge]]\n"
      << "topic = " << toml_string(b.topic) << "\n"
      << "direction = " << toml_string(b.direction) << "\n"
      << "qos = " << b.qos << "\n"
      << "local_prefix = " << toml_string(b.local_prefix) << "\n"
      << "remote_prefix = " << toml_string(b.remote_prefix) << "\n\n";
  }
  t << "[spool]\n"
    << "path = " << toml_string(spool_path) << "\n"
    << "max_messages = " << s.spool_max_messages << "\n"
    << "max_bytes = " << s.spool_max_bytes << "\n"
    << "overflow = " << toml_string(s.spool_overflow) << "\n\n"
    << "[status]\n"
    << "topic = " << toml_string(s.status_topic) << "\n"
    << "interval_s = " << s.status_interval_s << "\n\n"
    << "[log]\n"
    << "level = " << toml_string(s.log_level) << "\n"
    << "at_trace = " << (s.at_trace ? "true" : "false") << "\n";
  if (!s.upstream_tls_toml.empty()) t << "\n[upstream.tls]\n" << s.upstream_tls_toml;
  return t.str();
}

DaemonProcess::DaemonProcess(const DaemonSettings& settings) {
  dir_ = make_temp_dir("cellmqttd-test");
  config_path_ = dir_ + "/cellmqttd.toml";
  spool_path_ = dir_ + "/spool.db";
  log_path_ = dir_ + "/cellmqttd.log";
  notify_path_ = dir_ + "/notify";
  rewrite_config(settings);
  std::ofstream(log_path_).close();  // exists from the start, so inotify can watch it

  // systemd's notify socket: datagrams, one per sd_notify() call.
  notify_fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (notify_fd_ < 0) throw_errno("socket");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (notify_path_.size() >= sizeof(address.sun_path)) throw std::runtime_error("notify path too long");
  std::strncpy(address.sun_path, notify_path_.c_str(), sizeof(address.sun_path) - 1);
  if (::bind(notify_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) throw_errno("bind");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0 || stop_fd_ < 0) throw_errno("eventfd");
  reader_ = std::thread([this] { read_notifications(); });
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait_exit(kKillLimit);
  }
  if (reader_.joinable()) {
    const std::uint64_t one = 1;
    (void)::write(stop_fd_, &one, sizeof one);
    reader_.join();
  }
  if (pidfd_ >= 0) ::close(pidfd_);
  for (const int fd : {notify_fd_, wake_fd_, stop_fd_}) {
    if (fd >= 0) ::close(fd);
  }
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

void DaemonProcess::rewrite_config(const DaemonSettings& settings) {
  rewrite_config_text(daemon_config_toml(settings, spool_path_));
}

void DaemonProcess::rewrite_config_text(std::string_view toml) {
  // Written aside and renamed into place, so a SIGHUP can never read half a file.
  const std::string temp = config_path_ + ".new";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << toml;
    if (!out) throw std::runtime_error("cannot write " + temp);
  }
  fs::rename(temp, config_path_);
}

void DaemonProcess::start(DaemonStartOptions options) {
  if (pid_ > 0) throw std::runtime_error("cellmqttd is already running");
  if (pidfd_ >= 0) ::close(std::exchange(pidfd_, -1));
  exit_.reset();
  {
    // What an earlier run sent is all in the socket by now (it has ended): read and forget it.
    std::lock_guard lock(mutex_);
    drain_locked();
    notifications_.clear();
  }

  std::vector<std::string> extra = {"NOTIFY_SOCKET=" + notify_path_};
  std::optional<std::size_t> pid_slot;
  if (options.watchdog) {
    extra.push_back("WATCHDOG_USEC=" + std::to_string(options.watchdog->count()));
    extra.push_back("WATCHDOG_PID=" + std::string(23, ' '));  // room for the child's pid
  }
  auto env = child_environment(extra);
  if (options.watchdog) pid_slot = env.size() - 1;
  pid_ = spawn({CELLMQTTD_BINARY, "--config", config_path_}, std::move(env), log_path_, log_path_, pid_slot);
  pidfd_ = open_pidfd(pid_);
  if (pidfd_ < 0) throw_errno("pidfd_open");
}

void DaemonProcess::signal(int signal) {
  if (pid_ <= 0) throw std::runtime_error("cellmqttd is not running");
  ::kill(pid_, signal);
}

void DaemonProcess::reap(int wait_status) {
  exit_ = exit_status_of(wait_status);
  pid_ = -1;
}

std::optional<ExitStatus> DaemonProcess::wait_exit(milliseconds limit) {
  if (pid_ <= 0) return exit_;
  const auto deadline = Clock::now() + limit;
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      reap(status);
      return exit_;
    }
    if (remaining_ms(deadline) == 0) return std::nullopt;
    pollfd p{pidfd_, POLLIN, 0};
    ::poll(&p, 1, remaining_ms(deadline));
  }
}

bool DaemonProcess::drain_locked() {
  // Received and stored under the one lock, by whichever thread gets there: the order stays the
  // order the daemon sent them in.
  std::array<char, 4096> buf{};
  bool stored = false;
  for (;;) {
    const ssize_t n = ::recv(notify_fd_, buf.data(), buf.size(), 0);
    if (n < 0) return stored;  // EAGAIN: nothing more for now
    notifications_.emplace_back(buf.data(), static_cast<std::size_t>(n));
    stored = true;
  }
}

void DaemonProcess::read_notifications() {
  for (;;) {
    std::array<pollfd, 2> p{pollfd{notify_fd_, POLLIN, 0}, pollfd{stop_fd_, POLLIN, 0}};
    if (::poll(p.data(), p.size(), -1) < 0 && errno != EINTR) return;
    if (p[1].revents != 0) return;
    bool stored = false;
    {
      std::lock_guard lock(mutex_);
      stored = drain_locked();
    }
    if (stored) {
      const std::uint64_t one = 1;
      (void)::write(wake_fd_, &one, sizeof one);
    }
  }
}

std::vector<std::string> DaemonProcess::notifications() {
  std::lock_guard lock(mutex_);
  drain_locked();
  return notifications_;
}

std::optional<std::string> DaemonProcess::notification_field(const std::string& datagram,
                                                             std::string_view key) {
  std::istringstream lines(datagram);
  const std::string prefix = std::string(key) + "=";
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(prefix)) return line.substr(prefix.size());
  }
  return std::nullopt;
}

template <typename Done>
bool DaemonProcess::wait_until(Done done, milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  auto holds = [&] {
    std::lock_guard lock(mutex_);
    drain_locked();
    return done(notifications_);
  };
  for (;;) {
    std::uint64_t count = 0;
    (void)::read(wake_fd_, &count, sizeof count);  // cleared before looking, so no wake-up is lost
    if (holds()) return true;
    if (pid_ <= 0) return false;  // ended: nothing more will come
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      reap(status);
      return holds();  // its last datagrams were in the socket before it ended
    }
    if (remaining_ms(deadline) == 0) return false;
    std::array<pollfd, 2> p{pollfd{wake_fd_, POLLIN, 0}, pollfd{pidfd_, POLLIN, 0}};
    ::poll(p.data(), p.size(), remaining_ms(deadline));
  }
}

std::optional<std::size_t> DaemonProcess::wait_for_notification(std::string_view line, std::size_t from,
                                                                milliseconds limit) {
  std::optional<std::size_t> found;
  wait_until(
      [&](const std::vector<std::string>& all) {
        for (std::size_t i = from; i < all.size() && !found; ++i) {
          std::istringstream lines(all[i]);
          for (std::string l; std::getline(lines, l);) {
            if (l == line) {
              found = i;
              break;
            }
          }
        }
        return found.has_value();
      },
      limit);
  return found;
}

bool DaemonProcess::wait_ready(milliseconds limit) {
  return wait_for_notification("READY=1", 0, limit).has_value();
}

std::string DaemonProcess::log() const {
  return read_file(log_path_);
}

std::size_t DaemonProcess::log_size() const {
  std::error_code ec;
  const auto size = fs::file_size(log_path_, ec);
  return ec ? 0 : static_cast<std::size_t>(size);
}

bool DaemonProcess::wait_for_log(std::string_view text, std::size_t from, milliseconds limit) {
  // Watched before the first look, so a line written in between cannot be missed.
  const int watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (watch < 0 || inotify_add_watch(watch, log_path_.c_str(), IN_MODIFY) < 0) throw_errno("inotify");
  const auto deadline = Clock::now() + limit;
  bool found = false;
  for (;;) {
    if (read_file(log_path_, from).find(text) != std::string::npos) {
      found = true;
      break;
    }
    if (pid_ <= 0 || remaining_ms(deadline) == 0) break;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      reap(status);
      continue;  // one last look at what it wrote before it ended
    }
    std::array<pollfd, 2> p{pollfd{watch, POLLIN, 0}, pollfd{pidfd_, POLLIN, 0}};
    if (::poll(p.data(), p.size(), remaining_ms(deadline)) > 0 && (p[0].revents & POLLIN)) {
      std::array<char, 4096> events{};
      while (::read(watch, events.data(), events.size()) > 0) {
      }
    }
  }
  ::close(watch);
  return found;
}

CommandResult DaemonProcess::run(const std::vector<std::string>& args, milliseconds limit) {
  const std::string dir = make_temp_dir("cellmqttd-run");
  std::vector<std::string> argv = {CELLMQTTD_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = spawn(argv, child_environment({}), dir + "/out", dir + "/err", std::nullopt);
  const int pidfd = open_pidfd(pid);
  const auto deadline = Clock::now() + limit;
  CommandResult result;
  bool ended = false;
  while (!ended) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      result.status = exit_status_of(status);
      ended = true;
    } else if (remaining_ms(deadline) == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.status = exit_status_of(status);
      ended = true;
    } else {
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, remaining_ms(deadline));
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  result.out = read_file(dir + "/out");
  result.err = read_file(dir + "/err");
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return result;
}

}  // namespace test_support
