// The Quectel AT dialect of the EC2x / EC200x / EG9x family (seeds 001 and 002, and the field
// guide, seed 000): pure functions that build commands and parse lines. No state, no timing
// beyond each command's documented maximum response time. Tested with tables of real lines from
// ../shared/field-notes.md. Where the families differ, quectel_variants.hpp says how; the
// session drives them through quectel_dialect.hpp.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "modem/at/command.hpp"
#include "modem/at/framer.hpp"

namespace modem::quectel {

// The largest PEM file cellmqttd uploads with AT+QFUPL. The documents give no per-file limit
// (UFS space is the bound); 64 KiB holds a certificate chain and a key many times over and keeps
// an upload at 115200 baud under 6 s, inside AT+QFUPL's <timeout> of 100 s by a wide margin.
inline constexpr std::size_t kMaxTlsFile = 64 * 1024;

// ---- limits ---------------------------------------------------------------------------------
// AT+QMTPUBEX note 2: "The maximum length of the input data is 1500 bytes at a time."
constexpr std::size_t kMaxPublishPayload = 1500;
// AT+QMTOPEN: "<host_name> ... The maximum size is 100 bytes."
constexpr std::size_t kMaxHostName = 100;
// The notes give no limit for these; the values keep every command line well inside what the
// modules' AT parsers accept (a few hundred bytes) and are checked before anything is sent.
constexpr std::size_t kMaxTopic = 256;
constexpr std::size_t kMaxClientId = 128;
constexpr std::size_t kMaxUserName = 128;
constexpr std::size_t kMaxPassword = 128;
constexpr int kClientIndexCount = 6;        // <client_idx> 0-5
constexpr std::size_t kInFlightWindow = 5;  // AT+QMTPUBEX note 1
// MQTT 3.1.1 §2.2.3: the largest Remaining Length, so no payload can be longer. A +QMTRECV length
// field above it is not a length.
constexpr std::size_t kMaxMqttPayload = 268'435'455;

// ---- validation -----------------------------------------------------------------------------
// Whether `value` may travel inside a quoted AT argument: no '"', CR, LF or NUL (the modules know
// no escaping: field-notes.md 2.1, 2.2), valid UTF-8, not empty, at most `max_bytes` bytes.
// Returns nullopt when it may, else the reason in words ("contains a double quote").
std::optional<std::string> check_quoted_argument(std::string_view value, std::size_t max_bytes);
// A topic to publish to: check_quoted_argument(kMaxTopic) and no wildcard ('+', '#').
std::optional<std::string> check_publish_topic(std::string_view topic);
// A subscription filter: check_quoted_argument(kMaxTopic) and wildcards only as MQTT allows them
// ('+' a whole level, '#' a whole last level).
std::optional<std::string> check_topic_filter(std::string_view filter);

// ---- commands ---------------------------------------------------------------------------------
// Each returns a ready at::Command: its text, response prefixes, timeout (the documented maximum
// response time), payload and completing URC where the command has them, and a log_text with the
// secret masked where it carries one. Arguments must have passed the checks above.
// The V.250 and 3GPP basics (AT, ATI, AT+CPIN?, AT+CEREG, AT+CSQ, AT+COPS?, AT+CFUN, ...) are
// modem/gpp's; these are Quectel's own.
at::Command iccid();            // AT+QCCID
at::Command extended_signal();  // AT+QCSQ
at::Command network_info();     // AT+QNWINFO

enum class PdpType { kIpv4 = 1, kIpv6 = 2, kIpv4v6 = 3 };
struct PdpSettings {
  int context_id = 1;
  PdpType type = PdpType::kIpv4;
  std::string apn;
  std::string username;
  std::string password;  // masked in log_text
};
// AT+QICSGP=<cid>,<type>,"<apn>","<user>","<pw>",<auth>: <auth> 0 (none) when user name and
// password are both empty, else 1 (PAP); log_text masks a non-empty password as "***".
at::Command configure_pdp(const PdpSettings& settings);
at::Command activate_pdp(int context_id);    // AT+QIACT=<cid> (150 s)
at::Command query_pdp();                     // AT+QIACT?
at::Command deactivate_pdp(int context_id);  // AT+QIDEACT=<cid> (40 s)

struct Will {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};
at::Command mqtt_version(int client, int version);  // AT+QMTCFG="version",<idx>,<3|4>
at::Command mqtt_pdp_context(int client, int context_id);
at::Command mqtt_keepalive(int client, int seconds);
at::Command mqtt_clean_session(int client, bool clean);
at::Command mqtt_timeouts(int client, int packet_timeout_s, int retries, bool notice);
at::Command mqtt_will(int client, const std::optional<Will>& will);  // will_fg 0 when nullopt
// recv/mode <mode>,<msg_len_enable>: mode 0 = messages in the URC, 1 = buffered for AT+QMTRECV.
at::Command mqtt_receive_mode(int client, int mode, bool with_length);
// seeds/002 only: AT+QMTCFG="dataformat",<idx>,0,0 (text both ways) and "view/mode",<idx>,0 (the
// payload after ">" is not echoed).
at::Command mqtt_text_data_format(int client);
at::Command mqtt_no_payload_echo(int client);

at::Command mqtt_open(int client, const std::string& host, int port);  // completes on +QMTOPEN: <idx>,
at::Command mqtt_close(int client);                                    // completes on +QMTCLOSE: <idx>,
// `password_with_username`: the family takes the two as a pair (seeds/002), so a user name alone
// goes out with an empty password.
at::Command mqtt_connect(int client, const std::string& client_id, const std::optional<std::string>& username,
                         const std::optional<std::string>& password,
                         bool password_with_username = false);  // +QMTCONN: <idx>,; password masked
at::Command mqtt_disconnect(int client);                        // +QMTDISC: <idx>,
at::Command mqtt_connection_state();  // AT+QMTCONN?: +QMTCONN: <idx>,<state> per open client
// SUB, UNS and PUBEX complete on "+QMT...: <idx>,<msgid>," with a final result (0 or 2): result 1,
// the retransmission notice sent when <timeout_notice> is 1, is progress and does not complete
// them (it reaches the URC handlers). Same for +QMTCONN: <idx>,1.
at::Command mqtt_subscribe(int client, int msgid, const std::vector<std::pair<std::string, int>>& filters);
at::Command mqtt_unsubscribe(int client, int msgid, const std::vector<std::string>& filters);
// AT+QMTPUBEX=<idx>,<msgid>,<qos>,<retain>,"<topic>",<len> + the payload after "> "; completes on
// +QMTPUBEX: <idx>,<msgid>, (QoS 0: msgid 0, and the module still reports +QMTPUBEX: <idx>,0,0).
at::Command mqtt_publish(int client, int msgid, int qos, bool retain, const std::string& topic,
                         const std::string& payload);
// AT+QMTRECV=<idx>[,<id>], response prefix "+QMTRECV:": a "+QMTRECV: <idx>,<recv_id>" notice that
// arrives meanwhile lands among the answer's lines too; parse_qmtrecv tells them apart.
at::Command mqtt_read_buffered(int client, std::optional<int> recv_id);

// ---- parsed lines -----------------------------------------------------------------------------
struct MqttStatus {  // +QMTSTAT: <idx>,<err_code>
  int client;
  int code;
};
std::optional<MqttStatus> parse_qmtstat(std::string_view line);

struct MqttResult {  // +QMTOPEN: <idx>,<result>  +QMTCLOSE / +QMTDISC: <idx>,<result>
  int client;
  int result;
};
std::optional<MqttResult> parse_qmtopen(std::string_view line);
std::optional<MqttResult> parse_qmtclose(std::string_view line);
std::optional<MqttResult> parse_qmtdisc(std::string_view line);

struct ConnectResult {  // +QMTCONN: <idx>,<result>[,<ret_code>]
  int client;
  int result;
  std::optional<int> return_code;
};
std::optional<ConnectResult> parse_qmtconn(std::string_view line);
struct ConnectionState {  // +QMTCONN: <idx>,<state> (AT+QMTCONN?): 1 initial, 2 connecting, 3 connected,
  int client;             // 4 disconnecting
  int state;
};
std::optional<ConnectionState> parse_qmtconn_state(std::string_view line);

struct PacketResult {  // +QMTSUB / +QMTUNS / +QMTPUBEX / +QMTPUB: <idx>,<msgid>,<result>[,<value>...]
  int client;
  int msgid;
  int result;               // 0 acknowledged, 1 retransmitted, 2 failed
  std::vector<int> values;  // result 0: granted QoS (SUB); result 1: the retransmission count
};
std::optional<PacketResult> parse_packet_result(std::string_view line);  // any of the four prefixes

struct ReceivedMessage {  // +QMTRECV: <idx>,<msgid>,"<topic>",[<len>,]"<payload>"
  int client;
  int msgid;
  std::string topic;
  std::string payload;      // byte-exact: quotes, commas, CR, LF, NUL, bytes >= 0x80
  bool with_length = true;  // false: the line had no length field and was read without one
};
struct BufferedMessage {  // +QMTRECV: <idx>,<recv_id>: read it with AT+QMTRECV
  int client;
  int recv_id;
};
struct BufferStatus {  // +QMTRECV: <idx>,<s0>,<s1>,<s2>,<s3>,<s4> (answer to AT+QMTRECV?)
  int client;
  std::vector<bool> stored;
};
// A message line that reads as more than one message: its topic (or the first line of its
// payload) holds what looks like its own length field, `",<digits>,"`, and more than one reading
// fits the line. Which topic and payload the broker sent cannot be known: it is refused.
struct AmbiguousMessage {
  int client;
  int msgid;
  std::size_t readings;
};
using QmtRecv = std::variant<ReceivedMessage, BufferedMessage, BufferStatus, AmbiguousMessage>;

// How this module writes a received message. Quectel does not escape topics or payloads
// (field-notes.md 2.1): quotes, commas, CR and LF go out raw, so only a length field makes the
// line's end certain.
enum class RecvFraming {
  // "<topic>",<len>,"<payload>" (recv/mode <msg_len_enable> 1, which the session sets wherever the
  // family has it; AN 4.2 [2], field-notes.md 1.15, 2.1), or the EC200U split form "<topic>",<len>
  // CR LF <payload> (field-notes.md 2.1, DEV-CLAIM). A line with no length field at all (firmware
  // that ignores msg_len_enable) is read as kWithoutLength; but a line that has one in its topic
  // is read by it, so a session that meets such firmware must change to kWithoutLength (it does,
  // on the first message without a length field whose topic has no quote).
  kWithLength,
  // "<topic>","<payload>" (BC20, seed 003 5.2; recv/mode <msg_len_enable> 0): nothing says where the
  // payload ends. The line is taken to end at the last CR/LF after a quote before the module falls
  // silent, so no payload byte can become a line; a module line ending in a quote that arrives in
  // the same burst becomes part of the payload, and a topic holding `","` is cut there.
  kWithoutLength,
};

// For at::Channel::add_line_reader("+QMTRECV:", ...), asked at the line's first CR/LF: every way
// the line can end. With kWithLength, each `",<len>,"` (and a trailing `",<len>`, the split form)
// in the first segment is a reading (the first one is the real one unless the topic itself holds
// such a pattern); the framer keeps the one the bytes that follow prove right. A message line
// with no length field waits for silence (see kWithoutLength); the numeric forms end where they are.
at::LineEnds qmtrecv_line_ends(std::string_view first_segment, char line_break, RecvFraming framing);
// A complete line as the framer delivers it. A message is returned only when exactly one reading
// fits the whole line (AmbiguousMessage when several do); nullopt for anything else.
std::optional<QmtRecv> parse_qmtrecv(std::string_view line, RecvFraming framing);

std::optional<int> parse_pdp_deactivated(std::string_view line);  // +QIURC: "pdpdeact",<cid>

std::optional<std::string> parse_iccid(std::string_view line);  // +QCCID: <iccid>
struct NetworkInfo {
  std::string access_technology;  // "FDD LTE", "eMTC", ...
  std::string operator_code;      // "46000"
  std::string band;               // "LTE BAND 3"
};
std::optional<NetworkInfo> parse_qnwinfo(std::string_view line);
struct PdpStatus {  // +QIACT: <cid>,<state>,<type>,"<address>"
  int context_id;
  bool active;
  std::string address;
};
std::optional<PdpStatus> parse_qiact(std::string_view line);

// ---- what codes mean, for log lines a person can act on ---------------------------------------
const char* describe_qmtstat(int code);    // the +QMTSTAT table of the MQTT AN (8 and up: not documented)
const char* describe_qmtopen(int result);  // -1..5, with what to do
const char* describe_connack(int code);    // MQTT 3.1.1 CONNACK return codes 0-5

}  // namespace modem::quectel
