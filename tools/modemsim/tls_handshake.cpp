#include "tls_handshake.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>

namespace modemsim {

TlsHandshake::TlsHandshake(int fd, const TlsClientConfig& config) {
  ssl_ = SSL_new(config.context.get());
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd) != 1 ||
      (!config.server_name.empty() && SSL_set_tlsext_host_name(ssl_, config.server_name.c_str()) != 1)) {
    status_ = Status::kFailed;
    failure_ = "cannot set up the TLS connection";
    return;
  }
  SSL_set_connect_state(ssl_);
}

TlsHandshake::~TlsHandshake() {
  SSL_free(ssl_);
}

TlsHandshake::Status TlsHandshake::step() {
  if (status_ == Status::kDone || status_ == Status::kFailed) return status_;
  ERR_clear_error();
  const int ret = SSL_connect(ssl_);
  if (ret == 1) return status_ = Status::kDone;
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      return status_ = Status::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return status_ = Status::kWantWrite;
    default:
      failure_ = describe_failure(ret);
      ERR_clear_error();
      return status_ = Status::kFailed;
  }
}

std::string TlsHandshake::describe_failure(int ret) const {
  const int saved_errno = errno;
  const unsigned long error = ERR_peek_error();
  if (ERR_GET_LIB(error) == ERR_LIB_SSL && ERR_GET_REASON(error) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    // The detail is in the verification result, not in the error queue.
    return std::string("certificate verify failed: ") +
           X509_verify_cert_error_string(SSL_get_verify_result(ssl_));
  }
  if (error != 0) {
    const char* reason = ERR_reason_error_string(error);
    return reason != nullptr ? reason : "TLS error " + std::to_string(error);
  }
  if (SSL_get_error(ssl_, ret) == SSL_ERROR_SYSCALL && saved_errno != 0)
    return std::string("TLS handshake: ") + std::strerror(saved_errno);
  return "the server closed the connection during the TLS handshake";
}

void TlsHandshake::close_notify() {
  if (status_ == Status::kDone) SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace modemsim
