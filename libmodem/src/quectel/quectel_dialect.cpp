// The Quectel QMT families as scripts for the generic session. The knowledge that used to live in
// the session's state handlers is here now, typed: which +QMTOPEN result points to which rung of
// the ladder, which CONNACK codes are a verdict no reset can change, what +CPIN says.
#include "modem/quectel/quectel_dialect.hpp"

#include <fmt/format.h>

#include "modem/gpp/gpp.hpp"
#include "modem/gpp/gpp_clock.hpp"
#include "modem/quectel/quectel_at.hpp"
#include "modem/quectel/quectel_tls.hpp"
#include "modem/session/steps.hpp"
#include "quectel/quectel_link.hpp"

namespace modem::quectel {

namespace {

using session::failed;
using session::Failure;
using session::failure;
using session::first_line;
using session::ModuleInfo;
using session::Rung;
using session::Script;
using session::SessionConfig;
using session::Step;
using Kind = Failure::Kind;

std::optional<Failure> require_ok(const at::Result& r, ModuleInfo&, std::string_view what) {
  if (r.ok()) return std::nullopt;
  return failed(r, what);
}

// A step whose failure does not matter (cleanup of what may not exist, an optional query).
std::optional<Failure> ignore_result(const at::Result&, ModuleInfo&) {
  return std::nullopt;
}

PdpType pdp_type(session::PdpType type) {
  switch (type) {
    case session::PdpType::kIpv6:
      return PdpType::kIpv6;
    case session::PdpType::kIpv4v6:
      return PdpType::kIpv4v6;
    case session::PdpType::kIpv4:
      break;
  }
  return PdpType::kIpv4;
}

// A QMTCFG step: it must answer OK (AT+QMTCFG answers ERROR once the connection is up, seeds/001).
Step config_step(at::Command command) {
  return {std::move(command),
          [](const at::Result& r, ModuleInfo& info) { return require_ok(r, info, "AT+QMTCFG failed"); }};
}

// One line that a person can act on: the likely causes of a failed TLS open, most likely first,
// and what the module's SSL context really holds.
std::string describe_tls_open_failure(int idx, const std::string& host, int port,
                                      const session::TlsSettings& tls, const ModuleInfo& info) {
  std::vector<std::string> causes;
  if (tls.verify_peer) {
    causes.push_back("the CA (ca_file must hold the root the server's chain ends in)");
    std::string clock = "the module's clock";
    if (info.tls && info.tls->module_time) {
      clock += fmt::format(" ({}, from {})", gpp::format_utc(*info.tls->module_time), info.tls->clock_source);
    }
    causes.push_back(clock);
  }
  causes.push_back(tls.sni ? fmt::format("SNI (the server's certificate must name \"{}\")", host)
                           : "SNI (sni = false; HiveMQ Cloud, EMQX Cloud and AWS custom endpoints need it)");
  if (!tls.cert_pem.empty())
    causes.push_back("the client certificate (is it registered and active at the broker?)");
  causes.push_back(fmt::format("a broker that does not speak TLS on port {}", port));
  std::string line = fmt::format(
      "+QMTOPEN: {},-1: the TLS connection to {}:{} failed; likely causes, in order: ", idx, host, port);
  for (std::size_t i = 0; i < causes.size(); ++i)
    line += fmt::format("{}{}) {}", i ? "; " : "", i + 1, causes[i]);
  if (info.tls && !info.tls->context.empty()) line += "; the module's SSL context: " + info.tls->context;
  return line;
}

}  // namespace

QuectelDialect::QuectelDialect(const Variant& variant) : variant_(variant) {
  caps_.max_payload = variant.max_payload;
  caps_.max_topic = kMaxTopic;
  caps_.window = kInFlightWindow;  // AT+QMTPUBEX note 1
  caps_.binary_payload = true;     // the payload follows "> " with its exact length
  caps_.clients = kClientIndexCount;
  caps_.buffered_receive = true;  // recv/mode 1 and AT+QMTRECV, both documents
  caps_.max_context_id = variant.max_context_id;
  caps_.tls = true;  // AT+QSSLCFG and AT+QMTCFG="ssl" (seeds/001 5.x, seeds/002)
  caps_.max_tls_file = kMaxTlsFile;
  // Data needs the packet-switched registration: EPS, else GPRS (+CREG is only logged).
  caps_.registrations = {gpp::Registration::kEps, gpp::Registration::kGprs};
}

// ---- checks ---------------------------------------------------------------------------------------

std::optional<std::string> QuectelDialect::check_setting(session::Setting setting,
                                                         std::string_view value) const {
  using session::Setting;
  switch (setting) {
    case Setting::kApn:
    case Setting::kHost:
      return check_quoted_argument(value, kMaxHostName);  // AT+QMTOPEN <host_name>: 100 bytes
    case Setting::kClientId:
      return check_quoted_argument(value, kMaxClientId);
    case Setting::kApnUsername:
    case Setting::kUsername:
      return check_quoted_argument(value, kMaxUserName);
    case Setting::kApnPassword:
    case Setting::kPassword:
      return check_quoted_argument(value, kMaxPassword);
    case Setting::kWillTopic:
      if (auto why = check_publish_topic(value)) return why;
      if (value.size() > variant_.max_will_topic)
        return fmt::format("is longer than {} bytes", variant_.max_will_topic);
      return std::nullopt;
    case Setting::kWillMessage:
      // It goes inside AT+QMTCFG="will",...,"<msg>": the same rules as any quoted argument.
      return check_quoted_argument(value, variant_.max_will_message);
    case Setting::kTopicFilter:
      return check_topic_filter(value);
    case Setting::kTopic:
      return check_publish_topic(value);
  }
  return std::nullopt;
}

std::optional<std::string> QuectelDialect::check_publish(std::string_view topic,
                                                         std::size_t payload_size) const {
  if (auto why = check_publish_topic(topic)) return "the topic " + *why;
  if (payload_size > variant_.max_payload) {
    return fmt::format("the payload of {} bytes is over the module's limit of {} bytes", payload_size,
                       variant_.max_payload);
  }
  return std::nullopt;
}

// ---- bring-up -------------------------------------------------------------------------------------

Script QuectelDialect::identify() const {
  return {
      session::imei_step(),
      session::sim_step(),
      {iccid(),
       [](const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
         if (auto id = parse_iccid(first_line(r))) info.iccid = *id;
         return std::nullopt;
       }},
      session::imsi_step(),
  };
}

Script QuectelDialect::attach(const SessionConfig& config) const {
  const int cid = config.pdp.context_id;
  PdpSettings pdp{cid, pdp_type(config.pdp.type), config.pdp.apn, config.pdp.username, config.pdp.password};
  return {
      {configure_pdp(pdp),
       [](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
         if (r.ok()) return std::nullopt;
         return failed(r, "AT+QICSGP", Kind::kPdpFailed);
       }},
      // field-notes.md 1.1 and 2.4: AT+QIACT answers ERROR when the context is already active;
      // the AT+QIACT? that follows decides.
      {activate_pdp(cid), ignore_result},
      {query_pdp(),
       [cid](const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
         for (const auto& line : r.lines) {
           if (auto status = parse_qiact(line); status && status->context_id == cid && status->active) {
             info.pdp_address = status->address;
             return std::nullopt;
           }
         }
         if (r.ok()) return failure(Kind::kPdpFailed, "the context is not active after AT+QIACT");
         return failed(r, "AT+QIACT?", Kind::kPdpFailed);
       }},
  };
}

Script QuectelDialect::detach(const SessionConfig& config) const {
  return {{deactivate_pdp(config.pdp.context_id), ignore_result}};
}

Script QuectelDialect::cleanup(const SessionConfig& config) const {
  // field-notes.md 2.4: "Always AT+QMTDISC=0 + AT+QMTCLOSE=0 first ... critical after modem
  // restart to clear old state". On a clean module both just answer ERROR.
  return {{mqtt_disconnect(config.client_index), ignore_result},
          {mqtt_close(config.client_index), ignore_result}};
}

Script QuectelDialect::configure(const SessionConfig& c) const {
  const int idx = c.client_index;
  std::optional<Will> will;
  if (c.will) will = Will{c.will->topic, c.will->payload, c.will->qos, c.will->retain};
  Script steps = {
      config_step(mqtt_version(idx, c.protocol_version)),
      config_step(mqtt_pdp_context(idx, c.pdp.context_id)), config_step(mqtt_keepalive(idx, c.keepalive_s)),
      config_step(mqtt_clean_session(idx, c.clean_session)),
      // Notices on: +QMTPUBEX: <idx>,<msgid>,1,<n> tells how often a publish was retransmitted.
      config_step(mqtt_timeouts(idx, c.packet_timeout_s, c.packet_retries, true)),
      config_step(mqtt_will(idx, will)),
      // The payload length in every +QMTRECV makes received payloads binary-safe (quectel_recv.cpp).
      config_step(mqtt_receive_mode(idx, c.buffered_receive ? 1 : 0, true)),
      // Set either way: a module that ran with TLS before keeps "ssl" 1 until it powers down.
      config_step(mqtt_ssl(idx, c.tls.enabled, idx)),  // SSL context = client index (quectel_tls_scripts.cpp)
  };
  if (variant_.sets_data_format) {
    steps.push_back(config_step(mqtt_text_data_format(idx)));
    steps.push_back(config_step(mqtt_no_payload_echo(idx)));
  }
  return steps;
}

Script QuectelDialect::open(const SessionConfig& c) const {
  return {{mqtt_open(c.client_index, c.host, c.port),
           [idx = c.client_index, host = c.host, port = c.port, tls = c.tls](
               const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
             if (!r.ok() || !r.completion) return failed(r, "AT+QMTOPEN");
             const auto opened = parse_qmtopen(*r.completion);
             if (!opened) return failure(Kind::kUnreadable, "AT+QMTOPEN: unreadable " + *r.completion);
             const int result = opened->result;
             if (result == 0) return std::nullopt;
             if (tls.enabled && result == -1) {
               // The module's generic TLS failure (field-notes.md 3.3): no reset can fix a
               // certificate, so it backs off like a refused CONNACK and never climbs.
               return failure(Kind::kTlsFailed, describe_tls_open_failure(idx, host, port, tls, info),
                              Rung::kReopen, false, result);
             }
             std::string why = fmt::format("+QMTOPEN: {},{}: {}", idx, result, describe_qmtopen(result));
             if (tls.enabled && (result == 4 || result == 5)) {
               why +=
                   " (under TLS the EC200U also answers so for a certificate it rejects, field-notes.md 3.2)";
             }
             switch (result) {
               case 3:  // "failed to activate PDP"
                 return failure(Kind::kOpenFailed, std::move(why), Rung::kCyclePdp, true, result);
               case 1:  // "wrong parameter": no step of the ladder changes the host or the port
                 return failure(Kind::kOpenFailed, why + fmt::format(" (host \"{}\", port {})", host, port),
                                Rung::kReopen, false, result);
               default:
                 return failure(Kind::kOpenFailed, std::move(why), Rung::kReopen, true, result);
             }
           }}};
}

Script QuectelDialect::connect(const SessionConfig& c, const std::string& client_id) const {
  return {{mqtt_connect(c.client_index, client_id, c.username, c.password, variant_.password_with_username),
           [](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
             if (!r.ok() || !r.completion) return failed(r, "AT+QMTCONN");
             const auto conn = parse_qmtconn(*r.completion);
             if (!conn) return failure(Kind::kUnreadable, "AT+QMTCONN: unreadable " + *r.completion);
             if (conn->result != 0) {
               return failure(
                   Kind::kConnectFailed,
                   fmt::format("AT+QMTCONN: +QMTCONN result {} (CONNECT not acknowledged)", conn->result),
                   Rung::kReopen, true, conn->result);
             }
             if (conn->return_code && *conn->return_code != 0) {
               // The link works and the server answers: climbing the ladder would not change its mind.
               const int code = *conn->return_code;
               return failure(Kind::kConnectRefused,
                              fmt::format("the broker refused the connection: {} (CONNACK {})",
                                          describe_connack(code), code),
                              Rung::kReopen, false, code);
             }
             return std::nullopt;
           }}};
}

session::Step QuectelDialect::subscribe(const SessionConfig& c, int msgid, const std::string& filter,
                                        int qos) const {
  return {mqtt_subscribe(c.client_index, msgid, {{filter, qos}}),
          [filter](const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
            if (!r.ok() || !r.completion) return failed(r, "AT+QMTSUB");
            const auto result = parse_packet_result(*r.completion);
            if (!result || result->result != 0)
              return failure(Kind::kSubscribeFailed, "AT+QMTSUB: subscribing to \"" + filter + "\" failed");
            // SUBACK 0x80: the broker said no (its ACL). Reconnecting would not change that.
            if (!result->values.empty() && result->values.front() == 128)
              info.refused_filters.push_back(filter);
            return std::nullopt;
          }};
}

at::Command QuectelDialect::unsubscribe(const SessionConfig& c, int msgid,
                                        const std::vector<std::string>& filters) const {
  return mqtt_unsubscribe(c.client_index, msgid, filters);
}

at::Command QuectelDialect::disconnect(const SessionConfig& c) const {
  return mqtt_disconnect(c.client_index);
}

Script QuectelDialect::health() const {
  return {
      {gpp::signal_quality(),
       [](const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
         info.rssi_dbm = gpp::parse_csq_dbm(first_line(r));
         return std::nullopt;
       }},
      {gpp::operator_name(),
       [](const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
         if (auto op = gpp::parse_cops(first_line(r))) info.operator_name = op->name;
         return std::nullopt;
       }},
      {network_info(),
       [](const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
         if (auto net = parse_qnwinfo(first_line(r))) {
           info.access_technology = net->access_technology;
           info.band = net->band;
         }
         return std::nullopt;
       }},
  };
}

session::Step QuectelDialect::connection_alive(const SessionConfig& c) const {
  // AT+QMTCONN? (seeds/001 3.3.5): +QMTCONN: <idx>,<state>, 3 = connected; a client that is not
  // open has no line at all.
  return {mqtt_connection_state(),
          [idx = c.client_index](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
            if (!r.ok()) return std::nullopt;  // no answer: the channel's own timeouts deal with that
            for (const auto& line : r.lines) {
              const auto state = parse_qmtconn_state(line);
              if (state && state->client == idx) {
                if (state->state == 3) return std::nullopt;
                return failure(
                    Kind::kConnectFailed,
                    fmt::format("the module's MQTT client {} is not connected (AT+QMTCONN? says state {}), "
                                "and no +QMTSTAT said so",
                                idx, state->state));
              }
            }
            return failure(
                Kind::kConnectFailed,
                fmt::format("the module's MQTT client {} is closed (AT+QMTCONN? does not list it), and no "
                            "+QMTSTAT said so",
                            idx));
          }};
}

// ---- publishing and receiving ---------------------------------------------------------------------

at::Command QuectelDialect::publish(const session::PublishRequest& p) const {
  at::Command command = mqtt_publish(p.client, p.msgid, p.qos, p.retain, p.topic, p.payload);
  // +QMTPUBEX: <idx>,<msgid>,1,<n> reports a retransmission, not the outcome.
  auto matches = command.completion->matches;
  command.completion->matches = [matches](std::string_view line) {
    if (matches && !matches(line)) return false;
    const auto result = parse_packet_result(line);
    return !result || result->result != 1;
  };
  return command;
}

session::PublishOutcome QuectelDialect::publish_outcome(const at::Result& r) const {
  session::PublishOutcome outcome;
  outcome.status = session::PublishStatus::kFailed;
  if (r.ok() && r.completion) {
    const auto result = parse_packet_result(*r.completion);
    if (result && result->result == 0) {
      outcome.status = session::PublishStatus::kDelivered;
    } else {
      outcome.reason = "the module gave up after its retransmissions";
    }
  } else {
    outcome.reason = at::describe(r);
  }
  return outcome;
}

void QuectelDialect::abandon_publishes(at::Channel& channel) const {
  // Nobody will acknowledge these any more; a late +QMTPUBEX must not complete a new publish.
  channel.cancel_completions("+QMTPUBEX:");
}

at::Command QuectelDialect::read_message(const SessionConfig& c, int slot) const {
  return mqtt_read_buffered(c.client_index, slot);
}

std::unique_ptr<session::DialectLink> QuectelDialect::install(at::Channel& channel,
                                                              const SessionConfig& config,
                                                              session::DialectEvents events) const {
  return std::make_unique<QuectelLink>(channel, variant_, config.client_index, config.pdp.context_id,
                                       std::move(events));
}

}  // namespace modem::quectel
