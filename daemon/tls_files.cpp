#include "tls_files.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <utility>

#include "modem/text.hpp"

namespace cellmqttd::tls {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

// The only block name the modules' TLS stacks read as a certificate: mbedTLS (EC200U) looks for
// "-----BEGIN CERTIFICATE-----" and nothing else, so OpenSSL's "TRUSTED CERTIFICATE" and the old
// "X509 CERTIFICATE", which OpenSSL itself would take, are refused here.
constexpr std::string_view kCertificate = "CERTIFICATE";

BioPtr memory_bio(std::string_view bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

// OpenSSL's reason for the last failure, in its words ("bad base64 decode"); clears the queue so
// that the next check starts clean.
std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
  ERR_clear_error();
  return reason != nullptr ? reason : "no reason given";
}

// Never asked: an encrypted key is refused before OpenSSL could prompt on the terminal for it.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

// Text from a certificate, as a message shows it: valid UTF-8 kept, control characters and
// anything else escaped, so that a subject cannot act on the terminal or forge a log line.
std::string printable(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const std::size_t length = modem::utf8::sequence_length(text);
    if (length == 0) {
      out += fmt::format("\\x{:02X}", static_cast<unsigned char>(text.front()));
      text.remove_prefix(1);
      continue;
    }
    const char32_t c = modem::utf8::decode(text.substr(0, length));
    if (modem::utf8::is_control(c)) {
      out += fmt::format("\\u{:04X}", static_cast<unsigned>(c));
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += text.substr(0, length);
    }
    text.remove_prefix(length);
  }
  return out;
}

// The certificate's common name, or its whole subject when it has none (some roots name only
// an organisation).
std::string subject_of(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index >= 0) {
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
    if (length >= 0) {
      std::string cn(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
      OPENSSL_free(utf8);
      return printable(cn);
    }
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  ERR_clear_error();
  return printable(std::string_view(data, static_cast<std::size_t>(std::max(0L, size))));
}

std::int64_t seconds_of(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return 0;  // not after d2i_X509, which checked it
  return static_cast<std::int64_t>(::timegm(&tm));
}

std::int64_t seconds_of(Time time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

// Seconds as a time_point, held within what system_clock reaches (1677 to 2262 with libstdc++'s
// nanoseconds): a certificate "valid until 9999" is valid until the end of that range.
Time to_time(std::int64_t seconds) {
  const std::int64_t max =
      std::chrono::duration_cast<std::chrono::seconds>(Time::max().time_since_epoch()).count();
  const std::int64_t min =
      std::chrono::duration_cast<std::chrono::seconds>(Time::min().time_since_epoch()).count();
  return Time(
      std::chrono::duration_cast<Time::duration>(std::chrono::seconds(std::clamp(seconds, min, max))));
}

// One PEM block: its name ("CERTIFICATE", "PRIVATE KEY"), whether its headers say it is
// encrypted (the traditional "Proc-Type: 4,ENCRYPTED"), and, for a certificate only, its DER
// bytes (a key's bytes are wiped at once: they are not needed to tell what the block is).
struct Block {
  std::string type;
  bool encrypted_header = false;
  std::string der;
};

bool is_private_key(std::string_view type) {
  return type.ends_with("PRIVATE KEY");
}

// Every PEM block of `pem`, in order; text between blocks is skipped, as every PEM reader does.
modem::Outcome<std::vector<Block>> read_blocks(const std::string& name, const std::string& pem) {
  BioPtr bio = memory_bio(pem);
  std::vector<Block> blocks;
  ERR_clear_error();
  while (true) {
    char* type = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long length = 0;
    if (PEM_read_bio(bio.get(), &type, &header, &data, &length) == 0) {
      const unsigned long code = ERR_peek_last_error();
      if (ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
        ERR_clear_error();  // no further "-----BEGIN": the end of the file
        return blocks;
      }
      return modem::Error{
          fmt::format("{}: PEM block {} cannot be read (OpenSSL: {}); is the file cut short or "
                      "damaged?",
                      name, blocks.size() + 1, openssl_reason())};
    }
    Block block;
    block.type = type;
    block.encrypted_header = std::string_view(header).find("ENCRYPTED") != std::string_view::npos;
    if (block.type == kCertificate)
      block.der.assign(reinterpret_cast<const char*>(data), static_cast<std::size_t>(length));
    OPENSSL_free(type);
    OPENSSL_free(header);
    OPENSSL_clear_free(data, static_cast<std::size_t>(length));
    blocks.push_back(std::move(block));
  }
}

modem::Outcome<Certificate> parse_certificate(const std::string& name, const Block& block,
                                              std::size_t number) {
  const auto* p = reinterpret_cast<const unsigned char*>(block.der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(block.der.size())));
  if (!cert) {
    return modem::Error{
        fmt::format("{}: certificate {} cannot be parsed (OpenSSL: {})", name, number, openssl_reason())};
  }
  return Certificate{subject_of(cert.get()), seconds_of(X509_get0_notBefore(cert.get())),
                     seconds_of(X509_get0_notAfter(cert.get()))};
}

// What a certificate file may not hold, by the block's name; nullopt for a certificate.
// `what`: "a CA bundle", "a certificate file".
std::optional<std::string> foreign_block(const std::string& name, const Block& block, std::size_t number,
                                         std::string_view what, std::string_view keep_key) {
  if (block.type == kCertificate) return std::nullopt;
  if (is_private_key(block.type)) {
    return fmt::format(
        "{} holds a private key (PEM block {}), which does not belong in {}: it would be uploaded "
        "with the certificates; {}",
        name, number, what, keep_key);
  }
  if (block.type == "TRUSTED CERTIFICATE" || block.type == "X509 CERTIFICATE") {
    return fmt::format(
        "{}: PEM block {} is a \"{}\", which the module does not read; write it as a plain "
        "certificate: openssl x509 -in {} -out <new file>",
        name, number, printable(block.type), name);
  }
  return fmt::format("{}: PEM block {} is a \"{}\", not a certificate; {} holds certificates only", name,
                     number, printable(block.type), what);
}

// Certificates only, at least one. `what` and `keep_key` word the messages for the kind of file.
modem::Outcome<PemFile> check_certificates(const std::string& name, std::string_view text,
                                           std::size_t max_bytes, std::string_view what,
                                           std::string_view keep_key) {
  PemFile file{name, normalise_pem(text), {}};
  auto blocks = read_blocks(name, file.pem);
  if (!blocks) return blocks.error();
  for (std::size_t i = 0; i < blocks.value().size(); ++i) {
    const Block& block = blocks.value()[i];
    if (auto foreign = foreign_block(name, block, i + 1, what, keep_key)) return modem::Error{*foreign};
    auto certificate = parse_certificate(name, block, file.certificates.size() + 1);
    if (!certificate) return certificate.error();
    file.certificates.push_back(std::move(certificate).value());
  }
  if (file.certificates.empty()) {
    return modem::Error{fmt::format(
        "{} holds no PEM certificate (no \"-----BEGIN CERTIFICATE-----\" line); if it is a DER file, convert "
        "it: openssl x509 -inform der -in {} -out <new file>",
        name, name)};
  }
  if (file.pem.size() > max_bytes) {
    std::string message = fmt::format("{} is {} bytes, more than the {} bytes the module takes for one file",
                                      name, file.pem.size(), max_bytes);
    if (file.certificates.size() > 1 && what == "a CA bundle") {
      message +=
          fmt::format("; it holds {} certificates: keep only the root CA the broker's certificate chains to",
                      file.certificates.size());
    }
    return modem::Error{std::move(message)};
  }
  return file;
}

}  // namespace

std::string normalise_pem(std::string_view text) {
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  if (text.starts_with(kByteOrderMark)) text.remove_prefix(kByteOrderMark.size());
  std::string out;
  out.reserve(text.size() + 1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      out += text[i];
    } else if (i + 1 < text.size() && text[i + 1] == '\n') {
      continue;  // the LF that follows ends the line
    } else {
      out += '\n';  // a lone CR (old Mac files)
    }
  }
  if (!out.empty() && !out.ends_with('\n')) out += '\n';
  return out;
}

modem::Outcome<PemFile> check_ca_bundle(const std::string& name, std::string_view text,
                                        std::size_t max_bytes) {
  return check_certificates(name, text, max_bytes, "a CA bundle", "give the CA certificates only");
}

modem::Outcome<PemFile> check_certificate(const std::string& name, std::string_view text,
                                          std::size_t max_bytes) {
  return check_certificates(name, text, max_bytes, "a certificate file",
                            "keep the key in key_file and only certificates here");
}

modem::Outcome<PemFile> check_private_key(const std::string& name, std::string_view text,
                                          std::size_t max_bytes) {
  PemFile file{name, normalise_pem(text), {}};
  auto blocks = read_blocks(name, file.pem);
  if (!blocks) return blocks.error();
  std::size_t keys = 0;
  for (std::size_t i = 0; i < blocks.value().size(); ++i) {
    const Block& block = blocks.value()[i];
    if (block.type == "ENCRYPTED PRIVATE KEY" || (is_private_key(block.type) && block.encrypted_header)) {
      return modem::Error{fmt::format(
          "{} is encrypted; the module needs it without a passphrase (write a decrypted copy: openssl pkey "
          "-in {} -out <new file>, readable by its owner and group only)",
          name, name)};
    }
    if (is_private_key(block.type)) {
      ++keys;
    } else if (block.type == kCertificate) {
      return modem::Error{fmt::format(
          "{} holds a certificate (PEM block {}); a key file holds the private key only (is key_file "
          "naming the certificate?)",
          name, i + 1)};
    } else if (block.type != "EC PARAMETERS") {  // what `openssl ecparam -genkey` writes before the key
      return modem::Error{fmt::format("{}: PEM block {} is a \"{}\"; a key file holds the private key only",
                                      name, i + 1, printable(block.type))};
    }
  }
  if (keys == 0) {
    return modem::Error{
        fmt::format("{} holds no PEM private key (no \"-----BEGIN ... PRIVATE KEY-----\" line)", name)};
  }
  if (keys > 1) {
    return modem::Error{fmt::format(
        "{} holds {} private keys; keep only the one of the certificate in cert_file", name, keys)};
  }
  BioPtr bio = memory_bio(file.pem);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    return modem::Error{
        fmt::format("{}: the private key cannot be parsed (OpenSSL: {})", name, openssl_reason())};
  }
  if (file.pem.size() > max_bytes) {
    return modem::Error{fmt::format("{} is {} bytes, more than the {} bytes the module takes for one file",
                                    name, file.pem.size(), max_bytes)};
  }
  return file;
}

std::optional<std::string> check_key_matches(const PemFile& certificate, const PemFile& key) {
  BioPtr cert_bio = memory_bio(certificate.pem);
  X509Ptr leaf(PEM_read_bio_X509(cert_bio.get(), nullptr, no_passphrase, nullptr));
  BioPtr key_bio = memory_bio(key.pem);
  KeyPtr private_key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr));
  // Both parsed when they were checked; a failure here would mean they changed in between.
  const bool matches = leaf && private_key && X509_check_private_key(leaf.get(), private_key.get()) == 1;
  ERR_clear_error();
  if (matches) return std::nullopt;
  return fmt::format(
      "{} is not the private key of the certificate \"{}\" in {}; cert_file and key_file must be the two "
      "halves of one credential",
      key.name, certificate.certificates.empty() ? std::string() : certificate.certificates.front().subject,
      certificate.name);
}

std::optional<std::string> check_dates(const PemFile& file, Time now) {
  const std::int64_t seconds = seconds_of(now);
  for (const Certificate& cert : file.certificates) {
    if (seconds > cert.not_after) {
      return fmt::format("{}: the certificate \"{}\" expired on {} (the host clock says {})", file.name,
                         cert.subject, format_utc(cert.not_after), format_utc(seconds));
    }
    if (seconds < cert.not_before) {
      return fmt::format(
          "{}: the certificate \"{}\" is not valid before {} (the host clock says {}; if the clock is wrong, "
          "set it)",
          file.name, cert.subject, format_utc(cert.not_before), format_utc(seconds));
    }
  }
  return std::nullopt;
}

bool clock_is_unset(Time now) {
  const std::time_t t = static_cast<std::time_t>(seconds_of(now));
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return tm.tm_year + 1900 < 2024;
}

ValidityWindow validity_window(const std::vector<const PemFile*>& files) {
  ValidityWindow window;
  std::optional<std::int64_t> from;
  std::optional<std::int64_t> until;
  for (const PemFile* file : files) {
    for (const Certificate& cert : file->certificates) {
      if (!from || cert.not_before > *from) {
        from = cert.not_before;
        window.valid_from_file = file->name;
      }
      if (!until || cert.not_after < *until) {
        until = cert.not_after;
        window.valid_until_file = file->name;
      }
    }
  }
  if (from) window.valid_from = to_time(*from);
  if (until) window.valid_until = to_time(*until);
  return window;
}

std::string format_utc(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace cellmqttd::tls
