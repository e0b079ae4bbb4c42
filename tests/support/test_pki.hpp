// Certificates for a test, made at run time with Debian's OpenSSL: a CA, server certificates it
// signs for a host name or address, client certificates for mutual TLS, and the broken variants
// the TLS tests need (expired, not yet valid, signed by another CA, a key that does not match).
// Nothing is checked in: every run makes fresh keys, so no certificate in the tree can expire.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace test_support {

struct CertificateOptions {
  std::string common_name = "cellmqtt test";
  // subjectAltName entries: "localhost" (a DNS name) or "127.0.0.1" (an IP address).
  std::vector<std::string> alt_names = {};
  // Validity relative to now.
  std::chrono::seconds not_before = -std::chrono::hours(1);
  std::chrono::seconds not_after = std::chrono::hours(24 * 30);
  bool client = false;  // extendedKeyUsage clientAuth instead of serverAuth
};

// A key and its certificate, PEM.
struct Credential {
  std::string cert_pem;
  std::string key_pem;
};

class TestCa {
 public:
  explicit TestCa(const std::string& name = "cellmqtt test CA");
  ~TestCa();
  TestCa(TestCa&&) noexcept;
  TestCa& operator=(TestCa&&) noexcept;

  const std::string& cert_pem() const { return cert_pem_; }
  // A fresh key and a certificate this CA signs.
  Credential issue(const CertificateOptions& options) const;

 private:
  struct Keys;
  std::unique_ptr<Keys> keys_;
  std::string cert_pem_;
};

// A fresh private key, PEM (for "a key that does not match the certificate").
std::string make_private_key_pem();

// Writes `contents` to `path` with `mode` (0600 for keys), creating directories; returns the path.
std::filesystem::path write_file(const std::filesystem::path& path, const std::string& contents,
                                 unsigned mode = 0644);

}  // namespace test_support
