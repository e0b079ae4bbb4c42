#include "modem/session/dialects.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "modem/quectel/quectel_dialect.hpp"
#include "modem/quectel/quectel_variants.hpp"

namespace modem::session {

namespace {

// The one family this build has: Quectel's QMT modules, one dialect per variant row.
std::vector<std::unique_ptr<Dialect>> all_dialects() {
  std::vector<std::unique_ptr<Dialect>> out;
  for (const quectel::Variant& v : quectel::variants())
    out.push_back(std::make_unique<quectel::QuectelDialect>(v));
  return out;
}

// The dialects a model setting stands for: one, or every one for "auto".
std::vector<std::unique_ptr<Dialect>> dialects_for(std::string_view model) {
  const auto name = canonical_model(model);
  if (!name || *name == "auto") return all_dialects();
  std::vector<std::unique_ptr<Dialect>> out;
  if (auto d = make_dialect(*name)) out.push_back(std::move(d));
  return out;
}

bool case_insensitive_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::vector<std::string_view> dialect_names() {
  std::vector<std::string_view> names;
  for (const quectel::Variant& v : quectel::variants())
    names.push_back(v.name);
  return names;
}

std::optional<std::string_view> canonical_model(std::string_view model) {
  if (model == "auto") return "auto";
  if (model == "ec200u") return "quectel-ec200u";  // the value of configurations before 0.2
  for (const quectel::Variant& v : quectel::variants()) {
    if (v.name == model) return v.name;
  }
  return std::nullopt;
}

std::optional<std::string> model_not_supported_yet(std::string_view model) {
  if (model == "quectel-bc20") return "the Quectel BC20 (NB-IoT) is not supported by this release yet";
  if (model == "fibocom-mc66x") return "Fibocom MC66x/MG66x modules are not supported by this release yet";
  return std::nullopt;
}

std::unique_ptr<Dialect> make_dialect(std::string_view name) {
  if (const quectel::Variant* v = quectel::variant_named(name))
    return std::make_unique<quectel::QuectelDialect>(*v);
  return nullptr;
}

std::optional<std::string_view> detect_dialect(const gpp::Identity& identity, std::string_view usb_hint) {
  if (case_insensitive_equal(identity.manufacturer, "Quectel")) {
    if (const quectel::Variant* v = quectel::variant_for_model(identity.model)) return v->name;
  }
  // USB discovery names modules "Quectel EC25", "Quectel EC200S-CN/EC600S/EC600M".
  if (usb_hint.starts_with("Quectel ")) {
    if (const quectel::Variant* v = quectel::variant_for_model(usb_hint.substr(8))) return v->name;
  }
  return std::nullopt;
}

std::string_view initial_dialect(std::string_view model, std::string_view usb_hint) {
  if (const auto name = canonical_model(model); name && *name != "auto") return *name;
  if (const auto detected = detect_dialect({}, usb_hint)) return *detected;
  return "quectel-ec200u";
}

std::optional<std::string> check_setting(std::string_view model, Setting setting, std::string_view value) {
  for (const auto& dialect : dialects_for(model)) {
    if (auto why = dialect->check_setting(setting, value)) return why;
  }
  return std::nullopt;
}

std::vector<std::string> check_session_config(const SessionConfig& config) {
  std::vector<std::string> problems;
  for (const auto& dialect : dialects_for(config.model)) {
    for (std::string& problem : check_session_config(config, *dialect)) {
      if (std::find(problems.begin(), problems.end(), problem) == problems.end())
        problems.push_back(std::move(problem));
    }
  }
  return problems;
}

std::vector<std::string> check_session_config(const SessionConfig& c, const Dialect& dialect) {
  std::vector<std::string> problems;
  auto value = [&](Setting setting, const std::string& v, bool may_be_empty) {
    if (may_be_empty && v.empty()) return;
    if (auto problem = dialect.check_setting(setting, v))
      problems.push_back(fmt::format("{} {}", to_string(setting), *problem));
  };
  auto range = [&](const char* what, long v, long lo, long hi) {
    if (v < lo || v > hi) problems.push_back(fmt::format("{} must be {} to {}, not {}", what, lo, hi, v));
  };
  const Capabilities& caps = dialect.caps();
  range("PDP context id", c.pdp.context_id, 1, caps.max_context_id);
  value(Setting::kApn, c.pdp.apn, true);
  value(Setting::kApnUsername, c.pdp.username, true);
  value(Setting::kApnPassword, c.pdp.password, true);
  range("MQTT client index", c.client_index, 0, caps.clients - 1);
  value(Setting::kHost, c.host, false);
  range("upstream port", c.port, 1, 65535);
  // {imei} and {iccid} become digits, so the template is checked as it is.
  value(Setting::kClientId, c.client_id, false);
  if (c.username) value(Setting::kUsername, *c.username, true);
  if (c.password) value(Setting::kPassword, *c.password, true);
  range("keepalive", c.keepalive_s, 0, 3600);  // MQTT keep-alive the modules take: 0-3600 s
  if (c.protocol_version != 3 && c.protocol_version != 4) {
    problems.push_back(
        fmt::format("MQTT protocol version must be 3 (3.1) or 4 (3.1.1), not {}", c.protocol_version));
  }
  if (c.tls.enabled) {
    if (!caps.tls) {
      problems.push_back(fmt::format("TLS: the {} dialect cannot do TLS in this release", dialect.name()));
    } else {
      value(Setting::kHost, c.tls.ntp_server, false);
      for (const auto* pem : {&c.tls.ca_pem, &c.tls.cert_pem, &c.tls.key_pem}) {
        if (pem->size() > caps.max_tls_file)
          problems.push_back(fmt::format("TLS: a file of {} bytes is over the module's limit of {} bytes",
                                         pem->size(), caps.max_tls_file));
      }
    }
  }
  range("packet timeout", c.packet_timeout_s, 1, 60);
  range("packet retries", c.packet_retries, 0, 10);
  if (c.will) {
    value(Setting::kWillTopic, c.will->topic, false);
    value(Setting::kWillMessage, c.will->payload, true);
    range("will QoS", c.will->qos, 0, 2);
  }
  for (const auto& [filter, qos] : c.subscriptions) {
    if (auto problem = dialect.check_setting(Setting::kTopicFilter, filter))
      problems.push_back(fmt::format("subscription \"{}\" {}", filter, *problem));
    range("subscription QoS", qos, 0, 2);
  }
  return problems;
}

int max_context_id(std::string_view model) {
  int smallest = 16;  // 3GPP TS 27.007 <cid>
  for (const auto& dialect : dialects_for(model))
    smallest = std::min(smallest, dialect->caps().max_context_id);
  return smallest;
}

std::size_t max_topic(std::string_view model) {
  std::size_t longest = 0;
  for (const auto& dialect : dialects_for(model))
    longest = std::max(longest, dialect->caps().max_topic);
  return longest;
}

std::size_t max_payload(std::string_view model) {
  std::size_t largest = 0;
  for (const auto& dialect : dialects_for(model))
    largest = std::max(largest, dialect->caps().max_payload);
  return largest;
}

std::size_t max_tls_file(std::string_view model) {
  std::size_t smallest = 0;
  for (const auto& dialect : dialects_for(model)) {
    if (!dialect->caps().tls) continue;
    const std::size_t limit = dialect->caps().max_tls_file;
    smallest = smallest == 0 ? limit : std::min(smallest, limit);
  }
  return smallest;
}

std::optional<std::string> check_publish(std::string_view model, std::string_view topic,
                                         std::size_t payload_size) {
  // "auto": refused only when no family could send it; the module, once known, decides the rest.
  std::optional<std::string> first;
  for (const auto& dialect : dialects_for(model)) {
    auto why = dialect->check_publish(topic, payload_size);
    if (!why) return std::nullopt;
    if (!first) first = std::move(why);
  }
  return first;
}

const char* to_string(Setting setting) {
  switch (setting) {
    case Setting::kApn:
      return "APN";
    case Setting::kApnUsername:
      return "APN username";
    case Setting::kApnPassword:
      return "APN password";
    case Setting::kHost:
      return "upstream host";
    case Setting::kClientId:
      return "upstream client_id";
    case Setting::kUsername:
      return "upstream username";
    case Setting::kPassword:
      return "upstream password";
    case Setting::kWillTopic:
      return "will topic";
    case Setting::kWillMessage:
      return "will payload";
    case Setting::kTopicFilter:
      return "subscription";
    case Setting::kTopic:
      return "topic";
  }
  return "setting";
}

}  // namespace modem::session
