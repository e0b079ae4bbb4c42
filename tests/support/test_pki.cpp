#include "support/test_pki.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace test_support {

namespace {

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string("test PKI: ") + what);
}

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertDeleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using CertPtr = std::unique_ptr<X509, CertDeleter>;

// EC P-256: fast to make, and what the modules' TLS stacks (mbedTLS on EC200U) handle.
KeyPtr make_key() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) fail("EVP_EC_gen");
  return key;
}

std::string to_pem(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return pem;
}

std::string key_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr))
    fail("PEM_write_bio_PrivateKey");
  return to_pem(bio);
}

std::string pem_of(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!PEM_write_bio_X509(bio, cert)) fail("PEM_write_bio_X509");
  return to_pem(bio);
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) fail("X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

CertPtr make_cert(EVP_PKEY* key, const std::string& common_name, std::chrono::seconds not_before,
                  std::chrono::seconds not_after) {
  static std::atomic<long> serial{1};
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++ + (static_cast<long>(::time(nullptr)) << 8));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(not_before.count()));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(not_after.count()));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  return cert;
}

}  // namespace

struct TestCa::Keys {
  KeyPtr key;
  CertPtr cert;
};

TestCa::TestCa(const std::string& name) : keys_(std::make_unique<Keys>()) {
  keys_->key = make_key();
  keys_->cert = make_cert(keys_->key.get(), name, -std::chrono::hours(24), std::chrono::hours(24 * 365));
  X509_set_issuer_name(keys_->cert.get(), X509_get_subject_name(keys_->cert.get()));
  add_extension(keys_->cert.get(), keys_->cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_extension(keys_->cert.get(), keys_->cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(keys_->cert.get(), keys_->cert.get(), NID_subject_key_identifier, "hash");
  if (!X509_sign(keys_->cert.get(), keys_->key.get(), EVP_sha256())) fail("X509_sign (CA)");
  cert_pem_ = pem_of(keys_->cert.get());
}

TestCa::~TestCa() = default;
TestCa::TestCa(TestCa&&) noexcept = default;
TestCa& TestCa::operator=(TestCa&&) noexcept = default;

Credential TestCa::issue(const CertificateOptions& options) const {
  KeyPtr key = make_key();
  CertPtr cert = make_cert(key.get(), options.common_name, options.not_before, options.not_after);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(keys_->cert.get()));
  add_extension(cert.get(), keys_->cert.get(), NID_basic_constraints, "CA:FALSE");
  add_extension(cert.get(), keys_->cert.get(), NID_authority_key_identifier, "keyid");
  add_extension(cert.get(), keys_->cert.get(), NID_ext_key_usage,
                options.client ? "clientAuth" : "serverAuth");
  if (!options.alt_names.empty()) {
    std::string san;
    for (const std::string& alt : options.alt_names) {
      if (!san.empty()) san += ",";
      const bool address = !alt.empty() && alt.find_first_not_of("0123456789.") == std::string::npos;
      san += (address ? "IP:" : "DNS:") + alt;
    }
    add_extension(cert.get(), keys_->cert.get(), NID_subject_alt_name, san);
  }
  if (!X509_sign(cert.get(), keys_->key.get(), EVP_sha256())) fail("X509_sign");
  return {pem_of(cert.get()), key_pem(key.get())};
}

std::string make_private_key_pem() {
  KeyPtr key = make_key();
  return key_pem(key.get());
}

std::filesystem::path write_file(const std::filesystem::path& path, const std::string& contents,
                                 unsigned mode) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << contents;
    if (!out) fail(("cannot write " + path.string()).c_str());
  }
  ::chmod(path.c_str(), mode);
  return path;
}

}  // namespace test_support
