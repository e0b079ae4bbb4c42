// What TLS takes on a Quectel module: its file store (AT+QFLST / QFUPL / QFDEL, Quectel's file AT
// manual; the upload is shown in seeds/001 5.x and seeds/002), the SSL context the MQTT client uses
// (AT+QSSLCFG, field-notes.md 3.1 and 3.2), tying the client to it (AT+QMTCFG="ssl"), and setting
// the clock (AT+QLTS, AT+QNTP) that certificate checks need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "modem/at/command.hpp"
#include "modem/gpp/gpp_clock.hpp"

namespace modem::quectel {

// ---- files --------------------------------------------------------------------------------------
// The checksum in "+QFUPL: <size>,<checksum>": the XOR of the data's 16-bit big-endian words, an
// odd last byte taken as the high byte of a word whose low byte is 0 (Quectel file AT manual).
std::uint16_t upload_checksum(std::string_view data);

at::Command list_files();  // AT+QFLST="UFS:*"
struct StoredFile {        // +QFLST: "<name>",<size>
  std::string name;        // as given: with "UFS:" or without (firmware differs)
  std::size_t size = 0;
};
std::optional<StoredFile> parse_qflst(std::string_view line);

// AT+QFUPL="<name>",<size>,100: CONNECT, then exactly `contents`; answers +QFUPL. `secret`: the
// bytes are a private key and never traced.
at::Command upload_file(const std::string& name, const std::string& contents, bool secret);
struct UploadResult {  // +QFUPL: <size>,<checksum in hex>
  std::size_t size = 0;
  std::uint16_t checksum = 0;
};
std::optional<UploadResult> parse_qfupl(std::string_view line);
at::Command delete_file(const std::string& name);  // AT+QFDEL="<name>"
// +CME ERROR codes of the file commands.
inline constexpr int kFileExists = 407;
inline constexpr int kFileNotFound = 405;

// ---- SSL context --------------------------------------------------------------------------------
// AT+QSSLCFG="<option>",<ctx>,<value>, `value` as it is written: quoted file names, bare numbers,
// the ciphersuite unquoted (a quoted "0XFFFF" is answered ERROR, field-notes.md 3.1).
at::Command ssl_set(std::string_view option, int context, const std::string& value);
at::Command ssl_query(std::string_view option, int context);  // +QSSLCFG: "<option>",<ctx>,<value>
at::Command mqtt_ssl(int client, bool enable, int context);   // AT+QMTCFG="ssl",<idx>,<0|1>[,<ctx>]

// <sslversion>: 3 TLS 1.2, 4 every version the module has (seeds/001 5.x; field-notes.md 3.2).
inline constexpr int kSslVersionTls12 = 3;
inline constexpr int kSslVersionAny = 4;
// <seclevel>: 0 no authentication, 1 the server's, 2 the server's and ours (a client certificate).
inline constexpr int kSecLevelNone = 0;
inline constexpr int kSecLevelServer = 1;
inline constexpr int kSecLevelMutual = 2;

// ---- clock --------------------------------------------------------------------------------------
at::Command network_time();  // AT+QLTS=2: the local time the network last gave, or ""
std::optional<gpp::SystemTime> parse_qlts(std::string_view line);  // nullopt: none (or unreadable)
// AT+QNTP=<cid>,"<server>",123,1: OK, then +QNTP: <err>[,"<time>"] within 125 s; the module's
// clock is set on success (<settime> 1).
at::Command ntp_sync(int context_id, const std::string& server);
struct NtpResult {
  int error = 0;  // 0 success; 5xx as in Quectel's TCP/IP error codes (565 DNS, 561 PDP)
  std::optional<gpp::SystemTime> time;
};
std::optional<NtpResult> parse_qntp(std::string_view line);

}  // namespace modem::quectel
