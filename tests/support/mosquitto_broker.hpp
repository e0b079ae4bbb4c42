// A real `mosquitto` broker for a test: its own process, on a free loopback port, with its config,
// password file and log in a fresh temporary directory that goes away with it. The end-to-end
// assertions of DESIGN.md are made against a real broker, never a mock of one.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace test_support {

// A TLS listener: the broker's certificate and key, the CA it checks client certificates against,
// PEM (tests make them with test_pki.hpp).
struct BrokerTls {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  bool require_client_cert = false;     // mutual TLS: a client without a certificate the CA signed is refused
  std::string tls_version = "tlsv1.2";  // mosquitto.conf tls_version: the lowest version accepted
};

struct BrokerOptions {
  // User name -> password. Any user turns anonymous access off.
  std::vector<std::pair<std::string, std::string>> users;
  // Keep sessions, subscriptions, retained and queued messages across stop()/restart() (saved
  // in the broker's directory when it stops), as Debian's default mosquitto.conf does. Without
  // it a restart forgets every persistent session, and a test could not tell a message the
  // broker forgot from one the code under test lost.
  bool persistence = false;
  // QoS 1 and 2 messages the broker queues per client beyond those in flight; 0: no limit.
  // mosquitto's default, 1000, silently drops the rest, which a test counting every message of a
  // backlog must rule out.
  int max_queued_messages = 1000;
  // More mosquitto.conf lines, written after the ones above (a bridge's "connection" section, say).
  std::vector<std::string> extra_config = {};
  // The listener speaks TLS only (its port still accepts TCP, which is what start() waits for).
  std::optional<BrokerTls> tls = std::nullopt;
};

class MosquittoBroker {
 public:
  // Starts the broker and returns once its port accepts TCP connections. Throws
  // std::runtime_error (with the broker's log) when it cannot be started.
  static MosquittoBroker start(BrokerOptions options = {});

  MosquittoBroker(MosquittoBroker&& other) noexcept;
  MosquittoBroker& operator=(MosquittoBroker&& other) noexcept;
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;
  ~MosquittoBroker();  // stops the broker and removes its directory

  int port() const { return port_; }
  bool running() const { return pid_ > 0; }
  // SIGTERM, then waits for the process to end: every client connection is closed by then.
  void stop();
  // Starts it again on the same port with the same configuration (stopping it first if needed).
  void restart();

  // The broker's own log (log_type all): connections, CONNACK codes, wills, disconnections.
  std::string log() const;
  // Waits (bounded by `limit`, a hang guard) until the log contains `text`; returns whether it did.
  bool wait_for_log(const std::string& text,
                    std::chrono::milliseconds limit = std::chrono::seconds(10)) const;

 private:
  MosquittoBroker(std::string dir, int port);
  void launch();
  void release() noexcept;  // stops the broker and removes the directory

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A 127.0.0.1 port that nothing listened on a moment ago (bound to port 0, then released).
int free_loopback_port();

}  // namespace test_support
