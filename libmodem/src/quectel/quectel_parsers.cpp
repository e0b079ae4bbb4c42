// Parsers for the lines a Quectel module sends: result URCs of the QMT command set (EC2x MQTT AN,
// seed 001, chapters 3 and 4; +QMTRECV has a file of its own, quectel_recv.cpp) and the Quectel
// status lines the session reads (+QNWINFO, +QIACT, +QCCID, +QIURC "pdpdeact"). The 3GPP lines
// (+CEREG, +CPIN, +CSQ, +COPS) are modem/gpp's.
//
// Every parser takes one line as the framer delivers it (no CR/LF around it) and returns nullopt
// for anything it does not recognise: it never throws and never reads past the view. Optional
// spaces after the colon and after commas are accepted because some firmware writes ", "
// (field-notes.md 2.7).
#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "at/lexing.hpp"
#include "modem/quectel/quectel_at.hpp"

namespace modem::quectel {

using namespace lexing;

namespace {

// Between `min_count` and `max_count` integers, the first a valid <client_idx>.
std::optional<std::vector<int>> client_integers(std::string_view line, std::string_view prefix,
                                                std::size_t min_count, std::size_t max_count) {
  auto v = integers(line, prefix, min_count, max_count);
  if (!v || (*v)[0] < 0 || (*v)[0] >= kClientIndexCount) return std::nullopt;
  return v;
}

std::optional<MqttResult> client_and_result(std::string_view line, std::string_view prefix) {
  const auto v = client_integers(line, prefix, 2, 2);
  if (!v) return std::nullopt;
  return MqttResult{(*v)[0], (*v)[1]};
}

}  // namespace

// ---- MQTT result URCs ---------------------------------------------------------------------------

std::optional<MqttStatus> parse_qmtstat(std::string_view line) {
  const auto r = client_and_result(line, "+QMTSTAT:");
  if (!r) return std::nullopt;
  return MqttStatus{r->client, r->result};
}

// The read answer "+QMTOPEN: 0,"broker",1883" (AT+QMTOPEN?) is not a result and gives nullopt.
std::optional<MqttResult> parse_qmtopen(std::string_view line) {
  return client_and_result(line, "+QMTOPEN:");
}

std::optional<MqttResult> parse_qmtclose(std::string_view line) {
  return client_and_result(line, "+QMTCLOSE:");
}

std::optional<MqttResult> parse_qmtdisc(std::string_view line) {
  return client_and_result(line, "+QMTDISC:");
}

// "+QMTCONN: <idx>,<state>" (the AT+QMTCONN? answer) has the same shape as a result without
// <ret_code>; which one a line is follows from whether it answered the read command.
std::optional<ConnectResult> parse_qmtconn(std::string_view line) {
  const auto v = client_integers(line, "+QMTCONN:", 2, 3);
  if (!v) return std::nullopt;
  ConnectResult r{(*v)[0], (*v)[1], std::nullopt};
  if (v->size() == 3) r.return_code = (*v)[2];
  return r;
}

std::optional<ConnectionState> parse_qmtconn_state(std::string_view line) {
  const auto v = client_integers(line, "+QMTCONN:", 2, 2);
  if (!v || (*v)[1] < 1 || (*v)[1] > 4) return std::nullopt;
  return ConnectionState{(*v)[0], (*v)[1]};
}

std::optional<PacketResult> parse_packet_result(std::string_view line) {
  static constexpr std::string_view kPrefixes[] = {"+QMTPUBEX:", "+QMTPUB:", "+QMTSUB:", "+QMTUNS:"};
  for (const std::string_view prefix : kPrefixes) {
    if (!line.starts_with(prefix)) continue;
    // <idx>,<msgid>,<result>[,<value>...]: one granted QoS per topic for SUB, a count for result 1.
    const auto v = client_integers(line, prefix, 3, 3 + 64);
    if (!v) return std::nullopt;
    const int msgid = (*v)[1];
    const int result = (*v)[2];
    // AN 3.3.5-3.3.7: msgID 0-65535, result 0 acknowledged, 1 retransmitted, 2 failed. Anything
    // else is not this shape (the AN's figure 1 writes the notice as "+QMTSUB: tcpidx,1,msgId").
    if (msgid < 0 || msgid > 65535 || result < 0 || result > 2) return std::nullopt;
    return PacketResult{(*v)[0], msgid, result, std::vector<int>(v->begin() + 3, v->end())};
  }
  return std::nullopt;
}

// ---- PDP ------------------------------------------------------------------------------------------

// +QIURC: "pdpdeact",<cid>: the network deactivated the context (field-notes.md 1.6).
std::optional<int> parse_pdp_deactivated(std::string_view line) {
  const auto args = arguments(line, "+QIURC:");
  if (!args || args->size() != 2) return std::nullopt;
  const auto what = unquote((*args)[0]);
  if (!what || *what != "pdpdeact") return std::nullopt;
  return to_int_in((*args)[1], 1, 16);
}

// +QIACT: <cid>,<state>,<type>[,"<address>"] (field-notes.md 1.1, 1.12). An IPv4v6 context may
// list a second address; the first is kept.
std::optional<PdpStatus> parse_qiact(std::string_view line) {
  const auto args = arguments(line, "+QIACT:");
  if (!args || args->size() < 3) return std::nullopt;
  const auto cid = to_int_in((*args)[0], 1, 16);
  const auto state = to_int_in((*args)[1], 0, 1);
  const auto type = to_int((*args)[2]);
  if (!cid || !state || !type) return std::nullopt;
  PdpStatus status{*cid, *state == 1, {}};
  if (args->size() > 3) {
    const auto address = unquote((*args)[3]);
    if (!address) return std::nullopt;
    status.address = std::string(*address);
  }
  return status;
}

// ---- identity and network ----------------------------------------------------------------------

// +QCCID: 89860318760239587428 (hex digits: some ICCIDs end in an F filler).
std::optional<std::string> parse_iccid(std::string_view line) {
  if (!line.starts_with("+QCCID:")) return std::nullopt;
  const std::string_view id = trim(line.substr(7));
  if (id.size() < 10 || id.size() > 24) return std::nullopt;
  for (const char c : id) {
    const bool hex = is_digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
    if (!hex) return std::nullopt;
  }
  return std::string(id);
}

// +QNWINFO: "FDD LTE","46001","LTE BAND 3",1650 (the operator code quoted or not, by firmware);
// "+QNWINFO: No Service" gives nullopt.
std::optional<NetworkInfo> parse_qnwinfo(std::string_view line) {
  const auto args = arguments(line, "+QNWINFO:");
  if (!args || args->size() < 3) return std::nullopt;
  const auto act = unquote((*args)[0]);
  const auto band = unquote((*args)[2]);
  const std::string_view op = quoted_or_bare((*args)[1]);
  if (!act || !band || op.find('"') != std::string_view::npos) return std::nullopt;
  return NetworkInfo{std::string(*act), std::string(op), std::string(*band)};
}

}  // namespace modem::quectel
