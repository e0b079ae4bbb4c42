#include "support/modemsim_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "modem/session/dialects.hpp"

namespace test_support {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

}  // namespace

SimulatedModule simulated_module() {
  const char* variable = std::getenv(kModelVariable);
  const std::string flag = variable != nullptr && *variable != '\0' ? variable : "ec200u";
  // The ATI model of each personality (tools/modemsim/quectel_models.cpp).
  const std::string ati_model = flag == "ec2x" ? "EC25" : flag == "ec200x" ? "EC200S" : "EC200U";
  const auto dialect = modem::session::make_dialect("quectel-" + flag);
  if (!dialect) throw std::runtime_error(std::string(kModelVariable) + ": no family " + flag);
  return {flag, ati_model, std::string(dialect->family())};
}

ModemsimProcess ModemsimProcess::start(const ModemsimOptions& options) {
  char pattern[] = "/tmp/modemsim-test-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  const std::string dir = pattern;
  const std::string link = dir + "/modem";
  const std::string control = dir + "/control";

  // Watch the directory before starting, so the link's creation cannot be missed.
  const int watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (watch < 0 || inotify_add_watch(watch, dir.c_str(), IN_CREATE | IN_MOVED_TO) < 0) {
    throw std::runtime_error("inotify failed");
  }
  std::vector<std::string> args = {MODEMSIM_BINARY,
                                   "--link",
                                   link,
                                   "--control",
                                   control,
                                   "--broker",
                                   "127.0.0.1:" + std::to_string(options.broker_port)};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  // ctest runs the session and daemon suites once per personality (tests/integration/CMakeLists.txt);
  // a test that names a model itself keeps it.
  const char* model = std::getenv(kModelVariable);
  const bool names_model =
      std::find(options.extra_args.begin(), options.extra_args.end(), "--model") != options.extra_args.end();
  if (model != nullptr && *model != '\0' && !names_model) {
    args.emplace_back("--model");
    args.emplace_back(model);
  }
  const std::string log = dir + "/modemsim.log";

  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) ::dup2(fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ModemsimProcess process(dir, pid);
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!std::filesystem::is_symlink(link)) {
    pollfd p{watch, POLLIN, 0};
    if (::poll(&p, 1, std::min(remaining_ms(deadline), 500)) > 0) {
      std::array<char, 4096> events{};
      while (::read(watch, events.data(), events.size()) > 0) {
      }
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      process.pid_ = -1;
      ::close(watch);
      throw std::runtime_error("modemsim exited before it was ready (see " + log + ")");
    }
    if (Clock::now() >= deadline) {
      ::close(watch);
      throw std::runtime_error("modemsim did not create its link (see " + log + ")");
    }
  }
  ::close(watch);
  return process;
}

ModemsimProcess::ModemsimProcess(std::string dir, pid_t pid)
    : dir_(std::move(dir)), link_(dir_ + "/modem"), control_path_(dir_ + "/control"), pid_(pid) {}

ModemsimProcess::ModemsimProcess(ModemsimProcess&& other) noexcept
    : dir_(std::move(other.dir_)),
      link_(std::move(other.link_)),
      control_path_(std::move(other.control_path_)),
      pid_(std::exchange(other.pid_, -1)) {}

ModemsimProcess::~ModemsimProcess() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string ModemsimProcess::log() const {
  std::ifstream in(dir_ + "/modemsim.log", std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool ModemsimProcess::stop() {
  if (pid_ <= 0) return false;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 && !std::filesystem::is_symlink(link_);
}

std::string ModemsimProcess::control(std::string_view command) const {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, control_path_.c_str(), sizeof(address.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot connect to the control socket");
  }
  const std::string line = std::string(command) + "\n";
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    ::close(fd);
    throw std::runtime_error("control write failed");
  }
  std::string answer;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (answer.find('\n') == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) break;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (const auto nl = answer.find('\n'); nl != std::string::npos) answer.resize(nl);
  return answer;
}

AtTerminal::AtTerminal(const std::string& path) {
  auto opened = modem::SerialPort::open(path, modem::SerialConfig{});
  if (!opened) throw std::runtime_error(opened.error().message);
  port_ = std::move(opened).value();
}

void AtTerminal::write(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto io = port_->write(bytes);
    if (io.status == modem::IoResult::Status::kOk) {
      bytes.remove_prefix(io.bytes);
    } else if (io.status == modem::IoResult::Status::kWouldBlock) {
      pollfd p{port_->fd(), POLLOUT, 0};
      ::poll(&p, 1, 1000);
    } else {
      throw std::runtime_error("write to the module failed");
    }
  }
}

std::string AtTerminal::read_until(std::string_view until, std::chrono::milliseconds limit) {
  return read_until([until](const std::string& so_far) { return so_far.ends_with(until); }, limit);
}

std::string AtTerminal::read_until(const std::function<bool(const std::string&)>& done,
                                   std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  std::string out;
  // Bytes read past an earlier match are consumed one at a time, so `done` sees every prefix.
  while (!pending_.empty()) {
    out += pending_.front();
    pending_.erase(0, 1);
    if (done(out)) return out;
  }
  for (;;) {
    pollfd p{port_->fd(), POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return out;  // the caller's assertion shows what came
    std::array<char, 4096> buf{};
    const auto io = port_->read(buf.data(), buf.size());
    if (io.status == modem::IoResult::Status::kClosed || io.status == modem::IoResult::Status::kError)
      return out;
    if (io.status != modem::IoResult::Status::kOk) continue;
    for (std::size_t i = 0; i < io.bytes; ++i) {
      out += buf[i];
      if (done(out)) {
        pending_.append(buf.data() + i + 1, io.bytes - i - 1);
        return out;
      }
    }
  }
}

std::string AtTerminal::exchange(std::string_view bytes, std::string_view until,
                                 std::chrono::milliseconds limit) {
  write(bytes);
  return read_until(until, limit);
}

std::string AtTerminal::drain(std::chrono::milliseconds window) {
  std::string out = std::move(pending_);
  pending_.clear();
  const auto deadline = Clock::now() + window;
  for (;;) {
    pollfd p{port_->fd(), POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return out;
    std::array<char, 4096> buf{};
    const auto io = port_->read(buf.data(), buf.size());
    if (io.status != modem::IoResult::Status::kOk) return out;
    out.append(buf.data(), io.bytes);
  }
}

}  // namespace test_support
