// The commands of the Quectel dialect (EC2x MQTT AN, seed 001; the field guide, seed 000) and the
// checks every string must pass before it is put inside one of their quoted arguments.
//
// Timeouts are the maximum response times the documents give. For the two-phase QMT commands the
// OK comes at once and the result URC later, so the command itself gets kAckTimeout and the
// Completion gets the documented maximum (counted from the OK).
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "at/command_text.hpp"
#include "modem/quectel/quectel_at.hpp"
#include "modem/text.hpp"

namespace modem::quectel {

namespace {

using std::chrono::seconds;

constexpr seconds kAckTimeout{5};       // the OK (and "> ") of a two-phase command
constexpr seconds kQiactTimeout{150};   // AT+QIACT: 150 s, determined by the network
constexpr seconds kQideactTimeout{40};  // AT+QIDEACT: 40 s
// AT+QMTRECV=<idx> returns up to five buffered messages of any size in one answer; at 9600 baud
// five 1500-byte payloads alone take 8 s.
constexpr seconds kReadBufferedTimeout{10};
// AT+QMTOPEN: 120 s, determined by the network; 5 s on top for the URC to reach us.
constexpr seconds kOpenCompletion{125};
constexpr seconds kCloseCompletion{30};  // AT+QMTCLOSE, AT+QMTDISC: 30 s
// AT+QMTCONN: <pkt_timeout> (default 5 s) per attempt, with retries: 30 s covers the defaults
// and a slow CONNACK.
constexpr seconds kConnectCompletion{30};
// AT+QMTSUB / QMTUNS / QMTPUBEX: <pkt_timeout> * <retry_times> = 5 s * 3 = 15 s by default, plus
// a margin.
constexpr seconds kPacketCompletion{20};

using at::make_command;
using at::quoted;
using at::with_prefix;

at::Command make(std::string text, Duration timeout = seconds(2)) {
  return make_command(std::move(text), timeout);
}

std::string num(int n) {
  return std::to_string(n);
}

// The completing URC of a client-level command: "+QMTOPEN: <idx>,<result>" for our client index.
at::Completion client_completion(std::string prefix, int client,
                                 std::optional<MqttResult> (*parse)(std::string_view), Duration timeout) {
  return at::Completion{std::move(prefix),
                        [client, parse](std::string_view line) {
                          const auto r = parse(line);
                          return r && r->client == client;
                        },
                        timeout};
}

// The completing URC of a packet command: same client, same msgid, and a final result. Result 1
// ("packet retransmission", reported with <timeout_notice> 1) is a progress notice: the final
// 0 or 2 follows it, so it does not complete the command. Parsing the line, rather than comparing
// text, keeps "+QMTPUBEX: 0,17,0" from completing msgid 1 and tolerates ", " spacing.
at::Completion packet_completion(const std::string& prefix, int client, int msgid) {
  return at::Completion{prefix,
                        [prefix, client, msgid](std::string_view line) {
                          if (!line.starts_with(prefix)) return false;
                          const auto r = parse_packet_result(line);
                          return r && r->client == client && r->msgid == msgid && r->result != 1;
                        },
                        kPacketCompletion};
}

}  // namespace

// ---- validation ---------------------------------------------------------------------------------

// The module's AT parser knows no escaping (field-notes.md 2.1, 2.2): a '"' would end the argument
// and let the rest be read as more arguments or commands, CR ends the command line (V.250 S3), LF
// and NUL end it on some firmware. Other control characters are refused too: backspace is the
// V.250 S5 editing character, and MQTT 3.1.1 §1.5.3 asks for no controls in strings at all.
std::optional<std::string> check_quoted_argument(std::string_view value, std::size_t max_bytes) {
  if (value.empty()) return "is empty";
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"') return "contains a double quote";
    if (c == '\r') return "contains a carriage return";
    if (c == '\n') return "contains a line feed";
    if (c == '\0') return "contains a NUL byte";
    if (c < 0x20 || c == 0x7F) return "contains a control character";
  }
  if (!is_valid_utf8(value)) return "is not valid UTF-8";
  if (has_control_character(value)) return "contains a control character";  // C1: U+0080-U+009F
  if (value.size() > max_bytes) return "is longer than " + std::to_string(max_bytes) + " bytes";
  return std::nullopt;
}

// MQTT 3.1.1 §4.7.1: wildcards are for subscriptions; a PUBLISH topic must not contain them.
std::optional<std::string> check_publish_topic(std::string_view topic) {
  if (auto why = check_quoted_argument(topic, kMaxTopic)) return why;
  if (topic.find_first_of("+#") != std::string_view::npos) return "contains a wildcard ('+' or '#')";
  return std::nullopt;
}

// MQTT 3.1.1 §4.7.1.2-3: '#' only as a whole level and the last one ("a/#", "#"); '+' only as a
// whole level ("a/+/b", "+").
std::optional<std::string> check_topic_filter(std::string_view filter) {
  if (auto why = check_quoted_argument(filter, kMaxTopic)) return why;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = filter.find('/', start);
    const bool last = slash == std::string_view::npos;
    const std::string_view level = filter.substr(start, last ? std::string_view::npos : slash - start);
    if (level.find('#') != std::string_view::npos && (level != "#" || !last)) {
      return "has a '#' that is not the whole last level";
    }
    if (level.find('+') != std::string_view::npos && level != "+")
      return "has a '+' that is not a whole level";
    if (last) break;
    start = slash + 1;
  }
  return std::nullopt;
}

// ---- identity and network ---------------------------------------------------------------------

at::Command iccid() {
  return with_prefix("AT+QCCID", "+QCCID:");
}
at::Command extended_signal() {
  return with_prefix("AT+QCSQ", "+QCSQ:");
}
at::Command network_info() {
  return with_prefix("AT+QNWINFO", "+QNWINFO:");
}

// ---- PDP ------------------------------------------------------------------------------------------

// <authentication>: 0 (none) when there is neither user name nor password, else 1 (PAP). PAP is
// what operators that ask for credentials on an IoT APN accept almost everywhere; the rare
// CHAP-only APN would need a setting this struct does not have.
at::Command configure_pdp(const PdpSettings& settings) {
  const int auth = settings.username.empty() && settings.password.empty() ? 0 : 1;
  const std::string head = "AT+QICSGP=" + num(settings.context_id) + "," +
                           num(static_cast<int>(settings.type)) + "," + quoted(settings.apn) + "," +
                           quoted(settings.username) + ",";
  const std::string tail = "," + num(auth);
  at::Command c = make(head + quoted(settings.password) + tail);
  if (!settings.password.empty()) c.log_text = head + quoted("***") + tail;
  return c;
}

at::Command activate_pdp(int context_id) {
  return make("AT+QIACT=" + num(context_id), kQiactTimeout);
}
at::Command query_pdp() {
  return with_prefix("AT+QIACT?", "+QIACT:");
}
at::Command deactivate_pdp(int context_id) {
  return make("AT+QIDEACT=" + num(context_id), kQideactTimeout);
}

// ---- MQTT configuration (AT+QMTCFG, 300 ms) ---------------------------------------------------------

namespace {
at::Command qmtcfg(std::string_view option, int client, const std::string& values) {
  return make("AT+QMTCFG=" + quoted(option) + "," + num(client) + "," + values);
}
}  // namespace

at::Command mqtt_version(int client, int version) {
  return qmtcfg("version", client, num(version));
}
at::Command mqtt_pdp_context(int client, int context_id) {
  return qmtcfg("pdpcid", client, num(context_id));
}
at::Command mqtt_keepalive(int client, int seconds) {
  return qmtcfg("keepalive", client, num(seconds));
}
at::Command mqtt_clean_session(int client, bool clean) {
  return qmtcfg("session", client, clean ? "1" : "0");
}
at::Command mqtt_timeouts(int client, int packet_timeout_s, int retries, bool notice) {
  return qmtcfg("timeout", client, num(packet_timeout_s) + "," + num(retries) + "," + (notice ? "1" : "0"));
}
// "If <will_fg>=1, then <will_qos>, <will_retain>, <will_topic> and <will_msg> must be present.
// Otherwise they will be omitted."
at::Command mqtt_will(int client, const std::optional<Will>& will) {
  if (!will) return qmtcfg("will", client, "0");
  return qmtcfg("will", client,
                "1," + num(will->qos) + "," + (will->retain ? "1" : "0") + "," + quoted(will->topic) + "," +
                    quoted(will->payload));
}
at::Command mqtt_receive_mode(int client, int mode, bool with_length) {
  return qmtcfg("recv/mode", client, num(mode) + "," + (with_length ? "1" : "0"));
}
at::Command mqtt_text_data_format(int client) {
  return qmtcfg("dataformat", client, "0,0");
}
at::Command mqtt_no_payload_echo(int client) {
  return qmtcfg("view/mode", client, "0");
}

// ---- MQTT connection ----------------------------------------------------------------------------------

at::Command mqtt_open(int client, const std::string& host, int port) {
  at::Command c = make("AT+QMTOPEN=" + num(client) + "," + quoted(host) + "," + num(port), kAckTimeout);
  c.completion = client_completion("+QMTOPEN:", client, &parse_qmtopen, kOpenCompletion);
  return c;
}

at::Command mqtt_connection_state() {
  return with_prefix("AT+QMTCONN?", "+QMTCONN:");
}

at::Command mqtt_close(int client) {
  at::Command c = make("AT+QMTCLOSE=" + num(client), kAckTimeout);
  c.completion = client_completion("+QMTCLOSE:", client, &parse_qmtclose, kCloseCompletion);
  return c;
}

// A password needs a user name before it (the syntax is positional), so a password without one
// goes out with an empty user name.
at::Command mqtt_connect(int client, const std::string& client_id, const std::optional<std::string>& username,
                         const std::optional<std::string>& password, bool password_with_username) {
  std::string head = "AT+QMTCONN=" + num(client) + "," + quoted(client_id);
  if (username || password) head += "," + quoted(username.value_or(""));
  at::Command c = make(head, kAckTimeout);
  if (!password && username && password_with_username) {
    c.text += "," + quoted("");
  } else if (password) {
    c.text += "," + quoted(*password);
    if (!password->empty()) c.log_text = head + "," + quoted("***");
  }
  c.completion = at::Completion{"+QMTCONN:",
                                [client](std::string_view line) {
                                  const auto r = parse_qmtconn(line);
                                  return r && r->client == client && r->result != 1;  // 1: retransmission
                                },
                                kConnectCompletion};
  return c;
}

at::Command mqtt_disconnect(int client) {
  at::Command c = make("AT+QMTDISC=" + num(client), kAckTimeout);
  c.completion = client_completion("+QMTDISC:", client, &parse_qmtdisc, kCloseCompletion);
  return c;
}

// ---- MQTT packets -------------------------------------------------------------------------------------

at::Command mqtt_subscribe(int client, int msgid, const std::vector<std::pair<std::string, int>>& filters) {
  std::string text = "AT+QMTSUB=" + num(client) + "," + num(msgid);
  for (const auto& [filter, qos] : filters)
    text += "," + quoted(filter) + "," + num(qos);
  at::Command c = make(std::move(text), kAckTimeout);
  c.completion = packet_completion("+QMTSUB:", client, msgid);
  return c;
}

at::Command mqtt_unsubscribe(int client, int msgid, const std::vector<std::string>& filters) {
  std::string text = "AT+QMTUNS=" + num(client) + "," + num(msgid);
  for (const std::string& filter : filters)
    text += "," + quoted(filter);
  at::Command c = make(std::move(text), kAckTimeout);
  c.completion = packet_completion("+QMTUNS:", client, msgid);
  return c;
}

// The payload never goes inside the command line: it follows the "> " prompt, and <msg_length>
// is its exact byte count, so quotes, CR/LF, NUL and 0x1A pass untouched (field-notes.md 2.2).
at::Command mqtt_publish(int client, int msgid, int qos, bool retain, const std::string& topic,
                         const std::string& payload) {
  at::Command c = make("AT+QMTPUBEX=" + num(client) + "," + num(msgid) + "," + num(qos) + "," +
                           (retain ? "1" : "0") + "," + quoted(topic) + "," + std::to_string(payload.size()),
                       kAckTimeout);
  c.payload = payload;
  c.completion = packet_completion("+QMTPUBEX:", client, msgid);
  return c;
}

// The answer is a list of "+QMTRECV: <idx>,<msgid>,"<topic>",[<len>,]"<payload>"" lines
// (field-notes.md 1.15). A "+QMTRECV: <idx>,<recv_id>" notice arriving meanwhile also carries the
// prefix, so it lands among the answer's lines: parse_qmtrecv tells the two apart.
at::Command mqtt_read_buffered(int client, std::optional<int> recv_id) {
  std::string text = "AT+QMTRECV=" + num(client);
  if (recv_id) text += "," + num(*recv_id);
  return with_prefix(std::move(text), "+QMTRECV:", kReadBufferedTimeout);
}

}  // namespace modem::quectel
