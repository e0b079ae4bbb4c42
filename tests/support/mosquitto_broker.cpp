#include "mosquitto_broker.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "child_process.hpp"
#include "test_pki.hpp"

namespace test_support {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Hang guards, not timing assertions: a loaded CI machine may take a while to start a process.
constexpr auto kStartLimit = std::chrono::seconds(20);
constexpr auto kStopLimit = std::chrono::seconds(10);

[[noreturn]] void throw_errno(const std::string& what, int err) {
  throw std::runtime_error(what + ": " + std::system_category().message(err));
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void run(const std::vector<std::string>& argv, const fs::path& output) {
  const pid_t pid = spawn_process(argv, output.string());
  const auto status = wait_for_exit(pid, Clock::now() + kStopLimit);
  if (!status) {
    ::kill(pid, SIGKILL);
    wait_for_exit(pid, Clock::now() + kStopLimit);
    throw std::runtime_error(argv[0] + " did not finish");
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    throw std::runtime_error(argv[0] + " failed: " + read_file(output));
}

std::string current_user() {
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr) return pw->pw_name;
  throw std::runtime_error("no user name for uid " + std::to_string(::geteuid()));
}

// One non-blocking connect attempt to 127.0.0.1:port, waiting at most `limit_ms` for it.
bool accepts_connections(int port, int limit_ms) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket", errno);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
    ok = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, limit_ms) == 1) {
      int error = 0;
      socklen_t length = sizeof error;
      ok = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0;
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket", errno);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int err = errno;
    ::close(fd);
    throw_errno("finding a free port", err);
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

MosquittoBroker MosquittoBroker::start(BrokerOptions options) {
  std::string templ = (fs::temp_directory_path() / "cellmqtt-broker-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) throw_errno("mkdtemp", errno);
  MosquittoBroker broker(templ, free_loopback_port());  // owns the directory from here on
  const fs::path dir(broker.dir_);

  std::ofstream config(dir / "mosquitto.conf");
  config << "listener " << broker.port_ << " 127.0.0.1\n";
  if (options.tls) {
    // mosquitto reads them at start as this user; the key is kept private as a real one would be.
    const BrokerTls& tls = *options.tls;
    write_file(dir / "ca.pem", tls.ca_pem, 0644);
    write_file(dir / "server.pem", tls.cert_pem, 0644);
    write_file(dir / "server.key", tls.key_pem, 0600);
    config << "cafile " << (dir / "ca.pem").string() << "\n"
           << "certfile " << (dir / "server.pem").string() << "\n"
           << "keyfile " << (dir / "server.key").string() << "\n"
           << "require_certificate " << (tls.require_client_cert ? "true" : "false") << "\n"
           << "use_identity_as_username false\n"
           << "tls_version " << tls.tls_version << "\n";
  }
  config << "persistence " << (options.persistence ? "true" : "false") << "\n"
         << "persistence_location " << (dir.string() + "/") << "\n"
         << "max_queued_messages " << options.max_queued_messages << "\n"
         << "log_dest file " << (dir / "mosquitto.log").string() << "\n"
         << "log_type all\n"
         << "log_timestamp_format %H:%M:%S\n"
         // As root, mosquitto 2 drops privileges to user "mosquitto", who could not write the
         // log in this directory; running as ourselves keeps everything in the test's hands.
         << "user " << current_user() << "\n";
  if (options.users.empty()) {
    config << "allow_anonymous true\n";
  } else {
    const fs::path passwords = dir / "passwd";
    const std::string tool = find_program("mosquitto_passwd", "/usr/bin");
    bool first = true;
    for (const auto& [user, password] : options.users) {
      std::vector<std::string> argv{tool};
      if (first) argv.emplace_back("-c");  // creates the file
      argv.insert(argv.end(), {"-b", passwords.string(), user, password});
      run(argv, dir / "mosquitto_passwd.out");
      first = false;
    }
    config << "allow_anonymous false\n"
           << "password_file " << passwords.string() << "\n";
  }
  for (const std::string& line : options.extra_config)
    config << line << "\n";
  config.close();
  if (!config) throw std::runtime_error("cannot write " + (dir / "mosquitto.conf").string());

  broker.launch();
  return broker;
}

MosquittoBroker::MosquittoBroker(std::string dir, int port) : dir_(std::move(dir)), port_(port) {}

MosquittoBroker::MosquittoBroker(MosquittoBroker&& other) noexcept
    : dir_(std::exchange(other.dir_, {})),
      port_(std::exchange(other.port_, 0)),
      pid_(std::exchange(other.pid_, -1)) {}

MosquittoBroker& MosquittoBroker::operator=(MosquittoBroker&& other) noexcept {
  if (this != &other) {
    release();
    dir_ = std::exchange(other.dir_, {});
    port_ = std::exchange(other.port_, 0);
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

MosquittoBroker::~MosquittoBroker() {
  release();
}

void MosquittoBroker::release() noexcept {
  try {
    stop();
  } catch (const std::exception&) {
    // Nothing more a destructor can do; the process is SIGKILLed by stop() before it throws.
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
    dir_.clear();
  }
}

void MosquittoBroker::launch() {
  const fs::path dir(dir_);
  pid_ = spawn_process({find_program("mosquitto", "/usr/sbin"), "-c", (dir / "mosquitto.conf").string()},
                       dir / "mosquitto.out");
  const auto deadline = Clock::now() + kStartLimit;
  for (;;) {
    if (accepts_connections(port_, std::min(remaining_ms(deadline), 500))) return;
    // Not listening yet: see whether it died, waiting a little for that before the next attempt.
    if (const auto status = wait_for_exit(pid_, Clock::now() + milliseconds(20))) {
      pid_ = -1;
      throw std::runtime_error("mosquitto exited (status " + std::to_string(*status) +
                               ") before listening on port " + std::to_string(port_) + "\n" +
                               read_file(dir / "mosquitto.out") + read_file(dir / "mosquitto.log"));
    }
    if (remaining_ms(deadline) == 0) {
      stop();
      throw std::runtime_error("mosquitto did not listen on port " + std::to_string(port_) + "\n" +
                               read_file(dir / "mosquitto.out") + read_file(dir / "mosquitto.log"));
    }
  }
}

void MosquittoBroker::stop() {
  if (pid_ <= 0) return;
  const pid_t pid = std::exchange(pid_, -1);
  ::kill(pid, SIGTERM);
  if (wait_for_exit(pid, Clock::now() + kStopLimit)) return;
  ::kill(pid, SIGKILL);
  wait_for_exit(pid, Clock::now() + kStopLimit);
  throw std::runtime_error("mosquitto ignored SIGTERM; killed");
}

void MosquittoBroker::restart() {
  stop();
  launch();
}

std::string MosquittoBroker::log() const {
  return read_file(fs::path(dir_) / "mosquitto.log");
}

bool MosquittoBroker::wait_for_log(const std::string& text, std::chrono::milliseconds limit) const {
  const auto deadline = Clock::now() + limit;
  for (;;) {
    if (log().find(text) != std::string::npos) return true;
    if (remaining_ms(deadline) == 0) return false;
    ::poll(nullptr, 0, 10);  // the broker writes its log line by line; look again shortly
  }
}

}  // namespace test_support
