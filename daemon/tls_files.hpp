// The PEM files for TLS to the upstream broker, checked on the host before the session uploads
// them to the module (DESIGN.md: the daemon validates the files, the dialect provisions them).
// A module that is handed a bad file answers with a bare "+QMTOPEN: 0,-1" (field-notes.md 3.3),
// on a gateway far away; here the same mistake is one sentence naming the file, at
// `cellmqttd --check-config`. Parsing and checking only (OpenSSL): nothing here connects.
//
// Every function takes the text as read and a `name` (the path) for its messages, and returns
// either what the module will get or the one message a person acts on. No message quotes a key.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modem/outcome.hpp"

namespace cellmqttd::tls {

using Time = std::chrono::system_clock::time_point;

// PEM as the module gets it: CR LF and lone CR made LF, a final LF added, a UTF-8 byte order mark
// (Windows editors) dropped. The upload is a byte count and then the bytes (AT+QFUPL); line ending
// mix-ups are the first fix users report for "+QMTOPEN: 0,-1" (field-notes.md 3.3).
std::string normalise_pem(std::string_view text);

struct Certificate {
  std::string subject;  // its CN, or the whole subject (RFC 2253) when it has none; printable
  // Seconds since the epoch. Kept as such because a certificate may say 9999-12-31 (RFC 5280
  // 4.1.2.5), beyond what system_clock's nanoseconds reach.
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
};

struct PemFile {
  std::string name;                       // for messages: the path it was read from
  std::string pem;                        // normalised (normalise_pem)
  std::vector<Certificate> certificates;  // in the order of the file; empty for a key
};

// A CA bundle: one or more certificates and nothing else.
modem::Outcome<PemFile> check_ca_bundle(const std::string& name, std::string_view text,
                                        std::size_t max_bytes);
// A client certificate: its first certificate is the leaf, any after it the chain.
modem::Outcome<PemFile> check_certificate(const std::string& name, std::string_view text,
                                          std::size_t max_bytes);
// A private key, not encrypted (the module has no way to be given a passphrase).
modem::Outcome<PemFile> check_private_key(const std::string& name, std::string_view text,
                                          std::size_t max_bytes);
// Why `key` is not the private key of the leaf of `certificate`, or nullopt.
std::optional<std::string> check_key_matches(const PemFile& certificate, const PemFile& key);

// Why a certificate of `file` is not valid at `now` (the first one that is not), or nullopt.
std::optional<std::string> check_dates(const PemFile& file, Time now);
// A clock that cannot be right: a gateway without a battery-backed clock boots in 1970 and keeps
// that time until NTP answers, so a date check against it would refuse every certificate.
bool clock_is_unset(Time now);

// The window every certificate of `files` is valid in: the latest notBefore, the earliest
// notAfter, and the file each comes from. The session checks it against the module's clock,
// which the host cannot know in advance.
struct ValidityWindow {
  std::optional<Time> valid_from;
  std::optional<Time> valid_until;
  std::string valid_from_file;
  std::string valid_until_file;
};
ValidityWindow validity_window(const std::vector<const PemFile*>& files);

// "2025-01-31 12:00:00 UTC", as the messages show a date.
std::string format_utc(std::int64_t seconds);

}  // namespace cellmqttd::tls
