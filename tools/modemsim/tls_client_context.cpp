#include "tls_client_context.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <memory>

namespace modemsim {

namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr memory_bio(const std::string& data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// The certificates of a PEM file, in order (a chain or a bundle of CAs).
std::vector<X509*> read_certificates(const std::string& pem) {
  std::vector<X509*> certs;
  const BioPtr bio = memory_bio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
    certs.push_back(cert);
  ERR_clear_error();  // the end of the data reads as an error
  return certs;
}

// The contents of the file `role` names, or an error saying why there are none.
modem::Outcome<const std::string*> file_for(const char* role, const std::string& name,
                                            const FileStore& files) {
  if (name.empty()) return modem::Error{fmt::format("no {} file configured in the SSL context", role)};
  const std::string* data = files.find(name);
  if (data == nullptr) return modem::Error{fmt::format("no {} file {} in the store", role, name)};
  return data;
}

modem::Outcome<bool> trust_cacert(SSL_CTX* ctx, const SslContext& context, const FileStore& files) {
  auto file = file_for("cacert", context.cacert, files);
  if (!file) return file.error();
  const auto certs = read_certificates(*file.value());
  if (certs.empty()) return modem::Error{fmt::format("cacert {} holds no PEM certificate", context.cacert)};
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (X509* cert : certs) {
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
  }
  ERR_clear_error();  // a certificate given twice is not an error here
  return true;
}

modem::Outcome<bool> present_client_certificate(SSL_CTX* ctx, const SslContext& context,
                                                const FileStore& files) {
  auto cert_file = file_for("clientcert", context.clientcert, files);
  if (!cert_file) return cert_file.error();
  auto key_file = file_for("clientkey", context.clientkey, files);
  if (!key_file) return key_file.error();
  auto certs = read_certificates(*cert_file.value());
  if (certs.empty())
    return modem::Error{fmt::format("clientcert {} holds no PEM certificate", context.clientcert)};
  SSL_CTX_use_certificate(ctx, certs.front());
  X509_free(certs.front());
  for (std::size_t i = 1; i < certs.size(); ++i)
    SSL_CTX_add0_chain_cert(ctx, certs[i]);  // takes ownership
  const BioPtr bio = memory_bio(*key_file.value());
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    ERR_clear_error();
    return modem::Error{fmt::format("clientkey {} holds no PEM private key", context.clientkey)};
  }
  const bool used = SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(key);
  ERR_clear_error();
  if (!used)
    return modem::Error{fmt::format("client key {} does not match the client certificate {}",
                                    context.clientkey, context.clientcert)};
  return true;
}

// AT+QSSLCFG="ciphersuite" names one suite by its IANA number; 0XFFFF leaves them all.
modem::Outcome<bool> restrict_cipher(SSL_CTX* ctx, std::uint16_t suite) {
  if (suite == 0xFFFF) return true;
  SSL* probe = SSL_new(ctx);
  const unsigned char id[2] = {static_cast<unsigned char>(suite >> 8),
                               static_cast<unsigned char>(suite & 0xFF)};
  const SSL_CIPHER* cipher = probe != nullptr ? SSL_CIPHER_find(probe, id) : nullptr;
  const bool ok = cipher != nullptr && SSL_CTX_set_cipher_list(ctx, SSL_CIPHER_get_name(cipher)) == 1;
  SSL_free(probe);
  ERR_clear_error();
  if (!ok)
    return modem::Error{fmt::format("ciphersuite 0X{:04X} is not a TLS 1.2 suite this stack has", suite)};
  return true;
}

}  // namespace

bool is_ip_address(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

modem::Outcome<TlsClientConfig> make_tls_client(const SslContext& context, const FileStore& files,
                                                const std::string& host,
                                                std::chrono::sys_seconds module_utc) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return modem::Error{"cannot create an OpenSSL context"};
  SSL_CTX_set_min_proto_version(ctx.get(), context.sslversion == 3 ? TLS1_2_VERSION : TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), TLS1_2_VERSION);
  if (auto ok = restrict_cipher(ctx.get(), context.ciphersuite); !ok) return ok.error();

  if (context.seclevel == 0) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  } else {
    if (auto ok = trust_cacert(ctx.get(), context, files); !ok) return ok.error();
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx.get());
    const bool set = is_ip_address(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1
                                         : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
    if (!set) return modem::Error{fmt::format("cannot check the server against the host \"{}\"", host)};
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (context.ignorelocaltime == 1) {
      X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
    } else {
      X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(module_utc));
    }
  }
  if (context.seclevel == 2) {
    if (auto ok = present_client_certificate(ctx.get(), context, files); !ok) return ok.error();
  }
  ERR_clear_error();
  return TlsClientConfig{std::move(ctx), context.sni == 1 && !is_ip_address(host) ? host : std::string()};
}

}  // namespace modemsim
