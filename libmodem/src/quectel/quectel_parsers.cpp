// Parsers for the lines a Quectel module sends: result URCs of the QMT command set (EC2x MQTT AN,
// seed 001, chapters 3 and 4; +QMTRECV has a file of its own, quectel_recv.cpp) and
// the 27.007 / Quectel status lines the session reads (+CEREG, +CPIN, +CSQ, +COPS, +QNWINFO,
// +QIACT, +QCCID, +QIURC "pdpdeact").
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

#include "modem/quectel/dialect.hpp"
#include "quectel_lexing.hpp"

namespace modem::quectel {

using namespace lexing;

namespace {

std::optional<MqttResult> client_and_result(std::string_view line, std::string_view prefix) {
  const auto v = integers(line, prefix, 2, 2);
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
  const auto v = integers(line, "+QMTCONN:", 2, 3);
  if (!v) return std::nullopt;
  ConnectResult r{(*v)[0], (*v)[1], std::nullopt};
  if (v->size() == 3) r.return_code = (*v)[2];
  return r;
}

std::optional<PacketResult> parse_packet_result(std::string_view line) {
  static constexpr std::string_view kPrefixes[] = {"+QMTPUBEX:", "+QMTPUB:", "+QMTSUB:", "+QMTUNS:"};
  for (const std::string_view prefix : kPrefixes) {
    if (!line.starts_with(prefix)) continue;
    // <idx>,<msgid>,<result>[,<value>...]: one granted QoS per topic for SUB, a count for result 1.
    const auto v = integers(line, prefix, 3, 3 + 64);
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

// ---- registration and network -----------------------------------------------------------------

namespace {

std::optional<std::pair<Registration, std::string_view>> registration_kind(std::string_view line) {
  for (const Registration kind : {Registration::kCs, Registration::kGprs, Registration::kEps}) {
    if (line.starts_with(prefix(kind))) return std::pair{kind, std::string_view(prefix(kind))};
  }
  return std::nullopt;
}

// <lac|tac>,<ci> are quoted hex strings, and may be left empty from 27.007 n=3 on.
bool is_location_field(std::string_view s) {
  return s.empty() || unquote(s).has_value();
}

// The fields from <stat> on: <stat>[,<tac>,<ci>[,<AcT>[,...]]].
std::optional<RegistrationStatus> registration_from(Registration kind,
                                                    const std::vector<std::string_view>& args,
                                                    std::size_t stat_at) {
  const std::size_t n = args.size() - stat_at;
  if (n == 2) return std::nullopt;  // <stat> and half a location
  const auto stat = to_int_in(args[stat_at], 0, 255);
  if (!stat) return std::nullopt;
  RegistrationStatus status{kind, *stat, std::nullopt};
  if (n >= 3) {
    if (!is_location_field(args[stat_at + 1]) || !is_location_field(args[stat_at + 2])) return std::nullopt;
  }
  if (n >= 4 && !args[stat_at + 3].empty()) {
    status.access_technology = to_int_in(args[stat_at + 3], 0, 255);
    if (!status.access_technology) return std::nullopt;
  }
  return status;
}

}  // namespace

const char* prefix(Registration kind) {
  switch (kind) {
    case Registration::kCs:
      return "+CREG:";
    case Registration::kGprs:
      return "+CGREG:";
    case Registration::kEps:
      return "+CEREG:";
  }
  return "+CREG:";
}

bool is_registered(int stat) {
  return stat == 1 || stat == 5;
}

// The URC: "+CEREG: 5" or "+CEREG: 1,"1A2B","01234567",7". "+CEREG: 0,5" is a read answer
// (<n>,<stat>: field-notes.md 1.1) and gives nullopt here.
std::optional<RegistrationStatus> parse_registration_urc(std::string_view line) {
  const auto kind = registration_kind(line);
  if (!kind) return std::nullopt;
  const auto args = arguments(line, kind->second);
  if (!args) return std::nullopt;
  return registration_from(kind->first, *args, 0);
}

std::optional<RegistrationStatus> parse_registration_read(std::string_view line) {
  const auto kind = registration_kind(line);
  if (!kind) return std::nullopt;
  const auto args = arguments(line, kind->second);
  if (!args || args->size() < 2 || !to_int_in((*args)[0], 0, 5)) return std::nullopt;
  return registration_from(kind->first, *args, 1);
}

SimState parse_sim_status(std::string_view line) {
  if (!line.starts_with("+CPIN:")) return SimState::kOther;
  const std::string_view code = trim(line.substr(6));
  if (code == "READY") return SimState::kReady;
  if (code == "SIM PIN") return SimState::kPinRequired;
  if (code == "SIM PUK") return SimState::kPukRequired;
  if (code == "NOT INSERTED") return SimState::kNotInserted;
  return SimState::kOther;  // SIM PIN2, PH-SIM PIN, NOT READY, ...
}

bool cme_means_sim_missing(int cme_error) {
  return cme_error == 10 || cme_error == 13;  // 27.007 §9.2.1: SIM not inserted, SIM failure
}

// 27.007 §8.5: <rssi> 0 = -113 dBm or less, 1 = -111, 2..30 = -109..-53, 31 = -51 or more,
// 99 = unknown; 100..191 = -116..-25 dBm (the extended range some firmware uses).
std::optional<int> parse_csq_dbm(std::string_view line) {
  const auto args = arguments(line, "+CSQ:");
  if (!args || args->size() != 2 || !to_int((*args)[1])) return std::nullopt;
  const auto rssi = to_int((*args)[0]);
  if (!rssi) return std::nullopt;
  if (*rssi >= 0 && *rssi <= 31) return -113 + 2 * *rssi;
  if (*rssi >= 100 && *rssi <= 191) return -116 + (*rssi - 100);
  return std::nullopt;
}

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

// +COPS: <mode>[,<format>,"<oper>"[,<AcT>]]; "+COPS: 0" (not registered) gives nullopt.
std::optional<OperatorInfo> parse_cops(std::string_view line) {
  const auto args = arguments(line, "+COPS:");
  if (!args || args->size() < 3 || !to_int((*args)[0]) || !to_int((*args)[1])) return std::nullopt;
  const auto name = unquote((*args)[2]);
  if (!name) return std::nullopt;
  OperatorInfo info{std::string(*name), std::nullopt};
  if (args->size() > 3) {
    info.access_technology = to_int((*args)[3]);
    if (!info.access_technology) return std::nullopt;
  }
  return info;
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
