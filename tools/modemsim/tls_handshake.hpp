// The TLS connection AT+QMTOPEN opens when its client's SSL is on: a real handshake with OpenSSL
// over a connected non-blocking socket, stepped by the event loop (SSL_connect, then wait for
// what it wants: the socket readable or writable). Nothing here blocks.
#pragma once

#include <memory>
#include <string>

struct ssl_ctx_st;
struct ssl_st;

namespace modemsim {

// How a client checks and introduces itself: the OpenSSL context made from the module's SSL
// context (tls_client_context.hpp), shared by the handshake at AT+QMTOPEN and libmosquitto's
// connection at AT+QMTCONN, and the SNI to send (empty: none).
struct TlsClientConfig {
  std::shared_ptr<ssl_ctx_st> context;
  std::string server_name;
};

class TlsHandshake {
 public:
  enum class Status { kWantRead, kWantWrite, kDone, kFailed };

  // `fd` stays the caller's; the handshake only reads and writes it.
  TlsHandshake(int fd, const TlsClientConfig& config);
  ~TlsHandshake();
  TlsHandshake(const TlsHandshake&) = delete;
  TlsHandshake& operator=(const TlsHandshake&) = delete;

  // Takes the handshake as far as the socket allows now.
  Status step();
  Status status() const { return status_; }
  // Why it failed, in one line: OpenSSL's verification error ("certificate has expired") or the
  // alert or error it reported.
  const std::string& failure() const { return failure_; }
  // Ends the connection the polite way: sends close_notify, once, without waiting for the
  // server's (the socket is closed right after).
  void close_notify();

 private:
  std::string describe_failure(int ret) const;

  ssl_st* ssl_ = nullptr;
  Status status_ = Status::kWantWrite;
  std::string failure_;
};

}  // namespace modemsim
