// The TLS files as the host checks them before the module gets them (daemon/tls_files.hpp): each
// mistake a user makes with a PEM file is one message naming the file, and what passes is the
// bytes the module will be given. Certificates come from test_pki, made fresh for every run.
#include "tls_files.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <memory>
#include <string>

#include "support/test_pki.hpp"

namespace cellmqttd::tls {
namespace {

using std::chrono::hours;
using test_support::CertificateOptions;
using test_support::TestCa;

constexpr std::size_t kLimit = 64 * 1024;
const std::string kName = "/etc/cellmqttd/tls/file.pem";

// CertificateOptions with only the fields a test names (designated initializers would trip
// -Wmissing-field-initializers).
CertificateOptions options(const std::string& common_name, bool client = false,
                           std::chrono::seconds not_before = -hours(1),
                           std::chrono::seconds not_after = hours(24 * 30)) {
  CertificateOptions o;
  o.common_name = common_name;
  o.client = client;
  o.not_before = not_before;
  o.not_after = not_after;
  return o;
}

std::string error_of(const modem::Outcome<PemFile>& outcome) {
  return outcome ? std::string("(no error)") : outcome.error().message;
}

// A key written in the forms test_pki does not make: encrypted (PKCS#8 or the traditional
// "Proc-Type: 4,ENCRYPTED"), or traditional unencrypted ("EC PRIVATE KEY").
enum class KeyForm { kEncryptedPkcs8, kEncryptedTraditional, kTraditional };
std::string key_in_form(const std::string& pem, KeyForm form) {
  std::unique_ptr<BIO, decltype(&BIO_free)> in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                               BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  char passphrase[] = "passphrase";
  const auto* pass = reinterpret_cast<unsigned char*>(passphrase);
  switch (form) {
    case KeyForm::kEncryptedPkcs8:
      PEM_write_bio_PKCS8PrivateKey(out.get(), key.get(), EVP_aes_128_cbc(), passphrase, 10, nullptr,
                                    nullptr);
      break;
    case KeyForm::kEncryptedTraditional:
      PEM_write_bio_PrivateKey_traditional(out.get(), key.get(), EVP_aes_128_cbc(), pass, 10, nullptr,
                                           nullptr);
      break;
    case KeyForm::kTraditional:
      PEM_write_bio_PrivateKey_traditional(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
      break;
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string crlf(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    if (ch == '\n') out += '\r';
    out += ch;
  }
  return out;
}

// ---- normalisation ------------------------------------------------------------------------------

TEST(TlsFiles, LineEndingsBecomeLfWithAFinalNewline) {
  EXPECT_EQ(normalise_pem("a\r\nb\r\n"), "a\nb\n");
  EXPECT_EQ(normalise_pem("a\rb\r"), "a\nb\n");  // old Mac line ends
  EXPECT_EQ(normalise_pem("a\r\nb\rc\nd"), "a\nb\nc\nd\n");
  EXPECT_EQ(normalise_pem("a\nb"), "a\nb\n");
  EXPECT_EQ(normalise_pem("a\nb\n"), "a\nb\n");
  EXPECT_EQ(normalise_pem("\xEF\xBB\xBF"
                          "a\r\n"),
            "a\n");  // the byte order mark Notepad writes
  EXPECT_EQ(normalise_pem(""), "");
}

TEST(TlsFiles, ACrlfBundleIsAcceptedAsItsLfBytes) {
  const TestCa ca;
  const auto bundle = check_ca_bundle(kName, crlf(ca.cert_pem()), kLimit);
  ASSERT_TRUE(bundle) << error_of(bundle);
  EXPECT_EQ(bundle.value().pem, ca.cert_pem());
  EXPECT_EQ(bundle.value().pem.find('\r'), std::string::npos);
}

// ---- CA bundles ------------------------------------------------------------------------------------

TEST(TlsFiles, ACaBundleHoldsEveryCertificateWithItsSubjectAndDates) {
  const TestCa first("First Root");
  const TestCa second("Second Root");
  // Text between blocks, as `openssl x509 -text` and bundles with comments have, is skipped.
  const std::string text =
      "# Amazon-style comment\n" + first.cert_pem() + "subject=CN = Second Root\n" + second.cert_pem();
  const auto bundle = check_ca_bundle(kName, text, kLimit);
  ASSERT_TRUE(bundle) << error_of(bundle);
  ASSERT_EQ(bundle.value().certificates.size(), 2u);
  EXPECT_EQ(bundle.value().certificates[0].subject, "First Root");
  EXPECT_EQ(bundle.value().certificates[1].subject, "Second Root");
  EXPECT_LT(bundle.value().certificates[0].not_before, bundle.value().certificates[0].not_after);
  EXPECT_EQ(bundle.value().name, kName);
}

TEST(TlsFiles, AFileWithoutACertificateSaysHowToConvertDer) {
  const std::string expected =
      kName +
      " holds no PEM certificate (no \"-----BEGIN CERTIFICATE-----\" line); if it is a "
      "DER file, convert it: openssl x509 -inform der -in " +
      kName + " -out <new file>";
  EXPECT_EQ(error_of(check_ca_bundle(kName, "", kLimit)), expected);
  EXPECT_EQ(error_of(check_ca_bundle(kName, std::string("\x30\x82\x01\x0a\x02", 5), kLimit)), expected);
  EXPECT_EQ(error_of(check_certificate(kName, "not a certificate\n", kLimit)), expected);
}

TEST(TlsFiles, AKeyInABundleOrCertificateFileIsRefused) {
  const TestCa ca;
  const auto client = ca.issue(options("gw", true));
  EXPECT_EQ(
      error_of(check_ca_bundle(kName, ca.cert_pem() + client.key_pem, kLimit)),
      kName +
          " holds a private key (PEM block 2), which does not belong in a CA bundle: it would be uploaded "
          "with the certificates; give the CA certificates only");
  EXPECT_EQ(
      error_of(check_certificate(kName, client.cert_pem + client.key_pem, kLimit)),
      kName +
          " holds a private key (PEM block 2), which does not belong in a certificate file: it would be "
          "uploaded with the certificates; keep the key in key_file and only certificates here");
}

TEST(TlsFiles, BlocksTheModuleCannotReadAreRefusedByName) {
  const TestCa ca;
  std::string trusted = ca.cert_pem();
  for (const std::string marker : {"BEGIN ", "END "}) {
    const auto at = trusted.find(marker + "CERTIFICATE");
    trusted.insert(at + marker.size(), "TRUSTED ");
  }
  EXPECT_EQ(
      error_of(check_ca_bundle(kName, trusted, kLimit)),
      kName +
          ": PEM block 1 is a \"TRUSTED CERTIFICATE\", which the module does not read; write it as a plain "
          "certificate: openssl x509 -in " +
          kName + " -out <new file>");
  EXPECT_EQ(
      error_of(check_ca_bundle(
          kName, ca.cert_pem() + "-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n", kLimit)),
      kName + ": PEM block 2 is a \"X509 CRL\", not a certificate; a CA bundle holds certificates only");
}

TEST(TlsFiles, ADamagedOrTruncatedBlockIsRefused) {
  const TestCa ca;
  const std::string pem = ca.cert_pem();
  // Cut in the middle, as a copy and paste that stopped short does.
  const std::string cut = ca.cert_pem() + pem.substr(0, pem.size() / 2);
  EXPECT_EQ(error_of(check_ca_bundle(kName, cut, kLimit))
                .rfind(kName + ": PEM block 2 cannot be read (OpenSSL: ", 0),
            0u)
      << error_of(check_ca_bundle(kName, cut, kLimit));
  EXPECT_NE(error_of(check_ca_bundle(kName, cut, kLimit)).find("); is the file cut short or damaged?"),
            std::string::npos);
  // Valid base64, but not a certificate inside.
  EXPECT_EQ(error_of(check_ca_bundle(kName, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                                     kLimit))
                .rfind(kName + ": certificate 1 cannot be parsed (OpenSSL: ", 0),
            0u);
}

TEST(TlsFiles, ABundleOverTheModulesLimitSaysHowManyItHoldsAndWhatToKeep) {
  const TestCa a("A");
  const TestCa b("B");
  const TestCa c("C");
  const std::string text = a.cert_pem() + b.cert_pem() + c.cert_pem();
  const std::size_t limit = text.size() - 1;
  EXPECT_EQ(error_of(check_ca_bundle(kName, crlf(text), limit)),
            kName + " is " + std::to_string(text.size()) + " bytes, more than the " + std::to_string(limit) +
                " bytes the module takes for one file; it holds 3 certificates: keep only the root CA the "
                "broker's certificate chains to");
  // The size that counts is the one after normalisation: the CR LF file is larger, but fits.
  EXPECT_TRUE(check_ca_bundle(kName, crlf(text), text.size()));
}

// ---- client certificates and keys -----------------------------------------------------------------

TEST(TlsFiles, AChainFilesFirstCertificateIsTheLeaf) {
  const TestCa ca("Issuing CA");
  const auto client = ca.issue(options("gateway-0001", true));
  const auto file = check_certificate(kName, client.cert_pem + ca.cert_pem(), kLimit);
  ASSERT_TRUE(file) << error_of(file);
  ASSERT_EQ(file.value().certificates.size(), 2u);
  EXPECT_EQ(file.value().certificates.front().subject, "gateway-0001");
  const auto key = check_private_key(kName, client.key_pem, kLimit);
  ASSERT_TRUE(key) << error_of(key);
  EXPECT_EQ(check_key_matches(file.value(), key.value()), std::nullopt);
}

TEST(TlsFiles, KeysInEveryUnencryptedFormAreAccepted) {
  const TestCa ca;
  const auto client = ca.issue(options("cellmqtt test", true));
  const auto cert = check_certificate("cert.pem", client.cert_pem, kLimit);
  ASSERT_TRUE(cert);
  const std::string traditional = key_in_form(client.key_pem, KeyForm::kTraditional);
  ASSERT_NE(traditional.find("BEGIN EC PRIVATE KEY"), std::string::npos);
  // `openssl ecparam -genkey` writes the curve's parameters before the key.
  const std::string with_parameters =
      "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + traditional;
  for (const std::string& text : {client.key_pem, crlf(client.key_pem), traditional, with_parameters}) {
    const auto key = check_private_key("key.pem", text, kLimit);
    ASSERT_TRUE(key) << error_of(key);
    EXPECT_EQ(key.value().pem, normalise_pem(text));
    EXPECT_TRUE(key.value().certificates.empty());
    EXPECT_EQ(check_key_matches(cert.value(), key.value()), std::nullopt);
  }
}

TEST(TlsFiles, AnEncryptedKeyIsRefusedWithoutAskingForItsPassphrase) {
  const TestCa ca;
  const auto client = ca.issue(options("cellmqtt test", true));
  for (const auto form : {KeyForm::kEncryptedPkcs8, KeyForm::kEncryptedTraditional}) {
    const std::string text = key_in_form(client.key_pem, form);
    EXPECT_EQ(
        error_of(check_private_key(kName, text, kLimit)),
        kName +
            " is encrypted; the module needs it without a passphrase (write a decrypted copy: openssl pkey "
            "-in " +
            kName + " -out <new file>, readable by its owner and group only)");
  }
}

TEST(TlsFiles, WhatIsNotExactlyOneKeyIsRefused) {
  const TestCa ca;
  const auto client = ca.issue(options("cellmqtt test", true));
  EXPECT_EQ(
      error_of(check_private_key(kName, client.cert_pem, kLimit)),
      kName +
          " holds a certificate (PEM block 1); a key file holds the private key only (is key_file naming "
          "the certificate?)");
  EXPECT_EQ(error_of(check_private_key(kName, client.key_pem + test_support::make_private_key_pem(), kLimit)),
            kName + " holds 2 private keys; keep only the one of the certificate in cert_file");
  EXPECT_EQ(error_of(check_private_key(kName, "", kLimit)),
            kName + " holds no PEM private key (no \"-----BEGIN ... PRIVATE KEY-----\" line)");
  EXPECT_EQ(error_of(check_private_key(
                         kName, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", kLimit))
                .rfind(kName + ": the private key cannot be parsed (OpenSSL: ", 0),
            0u);
  const std::size_t size = client.key_pem.size();
  EXPECT_EQ(error_of(check_private_key(kName, client.key_pem, size - 1)),
            kName + " is " + std::to_string(size) + " bytes, more than the " + std::to_string(size - 1) +
                " bytes the module takes for one file");
}

TEST(TlsFiles, AKeyOfAnotherCertificateIsNamedWithBothFiles) {
  const TestCa ca;
  const auto client = ca.issue(options("gateway-0001", true));
  const auto cert = check_certificate("/etc/cellmqttd/aws/device.pem.crt", client.cert_pem, kLimit);
  const auto key =
      check_private_key("/etc/cellmqttd/aws/private.pem.key", test_support::make_private_key_pem(), kLimit);
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(
      check_key_matches(cert.value(), key.value()),
      "/etc/cellmqttd/aws/private.pem.key is not the private key of the certificate \"gateway-0001\" in "
      "/etc/cellmqttd/aws/device.pem.crt; cert_file and key_file must be the two halves of one credential");
}

// ---- dates ------------------------------------------------------------------------------------------

TEST(TlsFiles, DatesAreCheckedAgainstTheGivenClockNamingFileCertificateAndDate) {
  const TestCa ca("Dated Root");
  const auto file = check_ca_bundle(kName, ca.cert_pem(), kLimit);
  ASSERT_TRUE(file);
  const Certificate& cert = file.value().certificates.front();
  const auto at = [](std::int64_t seconds) { return Time(std::chrono::seconds(seconds)); };

  EXPECT_EQ(check_dates(file.value(), at(cert.not_before)), std::nullopt);
  EXPECT_EQ(check_dates(file.value(), at(cert.not_after)), std::nullopt);
  EXPECT_EQ(check_dates(file.value(), at(cert.not_after + 1)),
            kName + ": the certificate \"Dated Root\" expired on " + format_utc(cert.not_after) +
                " (the host clock says " + format_utc(cert.not_after + 1) + ")");
  EXPECT_EQ(check_dates(file.value(), at(cert.not_before - 60)),
            kName + ": the certificate \"Dated Root\" is not valid before " + format_utc(cert.not_before) +
                " (the host clock says " + format_utc(cert.not_before - 60) +
                "; if the clock is wrong, set it)");
}

TEST(TlsFiles, ACertificateThatExpiredIsFoundAmongValidOnes) {
  const TestCa ca("Root");
  const auto old = ca.issue(options("old intermediate", false, -hours(48), -hours(24)));
  const auto file = check_ca_bundle(kName, ca.cert_pem() + old.cert_pem, kLimit);
  ASSERT_TRUE(file);
  const auto problem = check_dates(file.value(), std::chrono::system_clock::now());
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->rfind(kName + ": the certificate \"old intermediate\" expired on ", 0), 0u) << *problem;
}

TEST(TlsFiles, DatesPrintAsUtc) {
  EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00 UTC");
  EXPECT_EQ(format_utc(1735689599), "2024-12-31 23:59:59 UTC");
  EXPECT_EQ(format_utc(253402300799), "9999-12-31 23:59:59 UTC");
}

TEST(TlsFiles, AClockBefore2024IsUnset) {
  EXPECT_TRUE(clock_is_unset(Time(std::chrono::seconds(0))));            // a gateway without an RTC
  EXPECT_TRUE(clock_is_unset(Time(std::chrono::seconds(1704067199))));   // 2023-12-31 23:59:59
  EXPECT_FALSE(clock_is_unset(Time(std::chrono::seconds(1704067200))));  // 2024-01-01
  EXPECT_FALSE(clock_is_unset(std::chrono::system_clock::now()));
}

// ---- the validity window ---------------------------------------------------------------------------

TEST(TlsFiles, TheWindowIsTheLatestStartAndEarliestEndOverEveryFile) {
  const TestCa ca("Root");  // valid from a day ago for a year (test_pki)
  const auto client = ca.issue(options("gw", true, -hours(2), hours(24 * 30)));
  const auto late_start = ca.issue(options("chain", false, hours(1)));
  const auto bundle = check_ca_bundle("ca.pem", ca.cert_pem(), kLimit);
  const auto cert = check_certificate("cert.pem", client.cert_pem + late_start.cert_pem, kLimit);
  ASSERT_TRUE(bundle && cert);

  const auto window = validity_window({&bundle.value(), &cert.value()});
  ASSERT_TRUE(window.valid_from && window.valid_until);
  const auto& chain = cert.value().certificates;
  EXPECT_EQ(*window.valid_from, Time(std::chrono::seconds(chain[1].not_before)));
  EXPECT_EQ(window.valid_from_file, "cert.pem");
  EXPECT_EQ(*window.valid_until,
            Time(std::chrono::seconds(std::min(chain[0].not_after, chain[1].not_after))));
  EXPECT_EQ(window.valid_until_file, "cert.pem");

  // With only the CA, both ends are the CA's.
  const auto ca_only = validity_window({&bundle.value()});
  EXPECT_EQ(ca_only.valid_from_file, "ca.pem");
  EXPECT_EQ(ca_only.valid_until_file, "ca.pem");
  EXPECT_EQ(*ca_only.valid_until, Time(std::chrono::seconds(bundle.value().certificates[0].not_after)));

  const auto none = validity_window({});
  EXPECT_FALSE(none.valid_from.has_value());
  EXPECT_FALSE(none.valid_until.has_value());
}

// RFC 5280 4.1.2.5: 99991231235959Z means "no expiry"; system_clock (nanoseconds) ends in 2262.
TEST(TlsFiles, ACertificateValidUntilTheYear9999EndsTheWindowAtTheClocksEnd) {
  const TestCa ca("Root");
  const auto forever = ca.issue(options("forever", false, -hours(1), hours(24 * 365 * 7900)));
  const auto file = check_certificate("forever.pem", forever.cert_pem, kLimit);
  ASSERT_TRUE(file) << error_of(file);
  const auto window = validity_window({&file.value()});
  ASSERT_TRUE(window.valid_until.has_value());
  EXPECT_GT(*window.valid_until, std::chrono::system_clock::now() + hours(24 * 365 * 200));
  EXPECT_EQ(check_dates(file.value(), std::chrono::system_clock::now()), std::nullopt);
}

}  // namespace
}  // namespace cellmqttd::tls
