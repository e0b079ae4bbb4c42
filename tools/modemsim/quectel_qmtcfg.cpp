// AT+QMTCFG, the MQTT client's options (seeds/001 AT+QMTCFG; seeds/002 §3.3.1): which options
// exist, their ranges and their optional arguments come from the model's row.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "quectel_personality.hpp"

namespace modemsim {

namespace {

bool in_range(std::optional<long> v, long lo, long hi) {
  return v && *v >= lo && *v <= hi;
}

std::optional<int> number(const AtCommandLine& command, std::size_t i, long lo, long hi) {
  const auto v = command.integer(i);
  if (!in_range(v, lo, hi)) return std::nullopt;
  return static_cast<int>(*v);
}

}  // namespace

const std::map<std::string, QuectelPersonality::OptionHandler, std::less<>>&
QuectelPersonality::option_handlers() {
  static const std::map<std::string, OptionHandler, std::less<>> table = {
      {"version", &QuectelPersonality::cfg_version},
      {"pdpcid", &QuectelPersonality::cfg_pdp_cid},
      {"keepalive", &QuectelPersonality::cfg_keepalive},
      {"qmtping", &QuectelPersonality::cfg_ping_interval},
      {"session", &QuectelPersonality::cfg_session},
      {"timeout", &QuectelPersonality::cfg_timeout},
      {"will", &QuectelPersonality::cfg_will},
      {"willex", &QuectelPersonality::cfg_willex},
      {"ssl", &QuectelPersonality::cfg_ssl},
      {"recv/mode", &QuectelPersonality::cfg_recv_mode},
      {"send/mode", &QuectelPersonality::cfg_send_mode},
      {"dataformat", &QuectelPersonality::cfg_data_format},
      {"view/mode", &QuectelPersonality::cfg_view_mode},
      // Cloud log-ins (Alibaba, OneNET, Huawei) and the data-entry timeout after ">": nothing the
      // simulation models (the broker takes any client, and the data phase waits as long as it takes).
      {"aliauth", &QuectelPersonality::cfg_accepted},
      {"onenet", &QuectelPersonality::cfg_accepted},
      {"hwauth", &QuectelPersonality::cfg_accepted},
      {"hwprodid", &QuectelPersonality::cfg_accepted},
      {"edit/timeout", &QuectelPersonality::cfg_accepted},
  };
  return table;
}

void QuectelPersonality::qmtcfg(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  if (command.form == AtCommandLine::Form::kTest) {
    for (const std::string_view line : model_.qmtcfg_test)
      reply->line(std::string(line));
    reply->ok();
    return;
  }
  std::string option = command.string(0).value_or("");
  for (char& c : option)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto idx = command.integer(1);
  if (command.form != AtCommandLine::Form::kWrite || !in_range(idx, 0, kClients - 1)) {
    bad_argument(reply);
    return;
  }
  Client& client = clients_[static_cast<std::size_t>(*idx)];
  const bool query = command.count() == 2;
  // "If MQTT connection is not established, the response is OK, else ERROR" (every QMTCFG write,
  // in both documents).
  if (!query && client.mqtt && client.mqtt->open_or_connected()) {
    reply->error();
    return;
  }
  // An option the module's document does not have is a bad parameter, as an unknown one is.
  const auto& offered = model_.qmtcfg_options;
  const auto handler = option_handlers().find(option);
  if (handler == option_handlers().end() ||
      std::find(offered.begin(), offered.end(), option) == offered.end()) {
    bad_option(reply);
    return;
  }
  (this->*(handler->second))(client, command, query, reply);
}

void QuectelPersonality::cfg_integer(const char* option, int& value, long lo, long hi,
                                     const AtCommandLine& command, bool query,
                                     const std::shared_ptr<Reply>& reply) {
  if (query) {
    reply->line(fmt::format("+QMTCFG: \"{}\",{}", option, value));
  } else if (auto v = number(command, 2, lo, hi)) {
    value = *v;
  } else {
    return bad_option(reply);
  }
  reply->ok();
}

// The ranges of the parameter tables; they agree in both documents but for <cid>.
void QuectelPersonality::cfg_version(Client& client, const AtCommandLine& command, bool query,
                                     const std::shared_ptr<Reply>& reply) {
  cfg_integer("version", client.version, 3, 4, command, query, reply);  // 3: MQTT 3.1, 4: 3.1.1
}

void QuectelPersonality::cfg_pdp_cid(Client& client, const AtCommandLine& command, bool query,
                                     const std::shared_ptr<Reply>& reply) {
  // seeds/001 <cid> "The range is 1-16"; seeds/002 §3.3.1 <cid> "1~15"
  cfg_integer("pdpcid", client.pdp_cid, 1, model_.max_pdp_cid, command, query, reply);
}

void QuectelPersonality::cfg_keepalive(Client& client, const AtCommandLine& command, bool query,
                                       const std::shared_ptr<Reply>& reply) {
  cfg_integer("keepalive", client.keepalive_s, 0, 3600, command, query, reply);
}

void QuectelPersonality::cfg_ping_interval(Client& client, const AtCommandLine& command, bool query,
                                           const std::shared_ptr<Reply>& reply) {
  // seeds/001 prints this write without <client_idx>, but its test line has it: a slip of the document.
  cfg_integer("qmtping", client.ping_interval_s, 5, 60, command, query, reply);
}

void QuectelPersonality::cfg_session(Client& client, const AtCommandLine& command, bool query,
                                     const std::shared_ptr<Reply>& reply) {
  if (query) {
    reply->line(fmt::format("+QMTCFG: \"session\",{}", client.clean_session ? 1 : 0));
  } else if (auto v = number(command, 2, 0, 1)) {
    client.clean_session = *v == 1;
  } else {
    return bad_option(reply);
  }
  reply->ok();
}

void QuectelPersonality::cfg_timeout(Client& client, const AtCommandLine& command, bool query,
                                     const std::shared_ptr<Reply>& reply) {
  if (query) {
    reply->line(fmt::format("+QMTCFG: \"timeout\",{},{},{}", client.timeouts.packet_timeout_s,
                            client.timeouts.retry_times, client.timeout_notice ? 1 : 0));
    reply->ok();
    return;
  }
  // seeds/002 §3.3.1 writes [,<pkt_timeout>,<retry_times>,<timeout_notice>]: all three or none.
  if (model_.timeout_all_or_none && command.count() != 5) return bad_option(reply);
  // <pkt_timeout> 1-60 s, <retry_times> 0-10 (the parameter tables of both documents).
  const auto timeout = number(command, 2, 1, 60);
  const auto retries = command.count() > 3 ? number(command, 3, 0, 10) : client.timeouts.retry_times;
  const auto notice = command.count() > 4 ? number(command, 4, 0, 1) : (client.timeout_notice ? 1 : 0);
  if (!timeout || !retries || !notice) return bad_option(reply);
  client.timeouts.packet_timeout_s = *timeout;
  client.timeouts.retry_times = *retries;
  client.timeout_notice = *notice == 1;
  reply->ok();
}

bool QuectelPersonality::will_fits(const std::string& topic, std::size_t message_bytes) const {
  // seeds/002 §3.3.1: <willtopic> 1~256 bytes, <willmessage> 0~256 bytes; seeds/001: no limit.
  return !topic.empty() && (!model_.max_will_topic || topic.size() <= *model_.max_will_topic) &&
         (!model_.max_will_message || message_bytes <= *model_.max_will_message);
}

void QuectelPersonality::cfg_will(Client& client, const AtCommandLine& command, bool query,
                                  const std::shared_ptr<Reply>& reply) {
  if (query) {
    reply->line(client.will
                    ? fmt::format("+QMTCFG: \"will\",1,{},{},\"{}\",\"{}\"", client.will->qos,
                                  client.will->retain ? 1 : 0, client.will->topic, client.will->payload)
                    : std::string("+QMTCFG: \"will\",0"));
    reply->ok();
    return;
  }
  const auto flag = number(command, 2, 0, 1);
  if (!flag) return bad_option(reply);
  if (*flag == 0) {
    client.will.reset();
    reply->ok();
    return;
  }
  // "If <will_flag>=1, then <will_qos>, <will_retain>, <will_topic> and <will_msg> must be present."
  const auto qos = number(command, 3, 0, 2);
  const auto retain = number(command, 4, 0, 1);
  if (!qos || !retain || command.count() < 7 || !will_fits(*command.string(5), command.string(6)->size()))
    return bad_option(reply);
  client.will = MqttWill{*command.string(5), *command.string(6), *qos, *retain == 1};
  reply->ok();
}

void QuectelPersonality::cfg_willex(Client& client, const AtCommandLine& command, bool query,
                                    const std::shared_ptr<Reply>& reply) {
  if (!model_.data_options_act) return cfg_accepted(client, command, query, reply);
  // seeds/002 §3.3.1 "willex": like "will", but the message follows a ">" prompt as <will_len>
  // bytes, so it may hold the quotes and commas an inline "will" cannot carry.
  if (query) {
    reply->line(client.will ? fmt::format("+QMTCFG: \"willex\",1,{},{},\"{}\",{}", client.will->qos,
                                          client.will->retain ? 1 : 0, client.will->topic,
                                          client.will->payload.size())
                            : std::string("+QMTCFG: \"willex\",0"));
    reply->ok();
    return;
  }
  const auto flag = number(command, 2, 0, 1);
  if (!flag) return bad_option(reply);
  if (*flag == 0) {
    client.will.reset();
    reply->ok();
    return;
  }
  const auto qos = number(command, 3, 0, 2);
  const auto retain = number(command, 4, 0, 1);
  const auto length = number(command, 6, 0, static_cast<long>(model_.max_will_message.value_or(256)));
  if (!qos || !retain || !length || command.count() != 7 ||
      !will_fits(*command.string(5), static_cast<std::size_t>(*length)))
    return bad_option(reply);
  // The prompt takes exactly <will_len> bytes: "more than <will_len> is cut to <will_len>" cannot
  // happen on a line that ends the data at its length (the rest would be the next command).
  reply->prompt(static_cast<std::size_t>(*length), [&client, reply, topic = *command.string(5), qos = *qos,
                                                    retain = *retain == 1](std::string message) {
    client.will = MqttWill{topic, std::move(message), qos, retain};
    reply->ok();
  });
}

void QuectelPersonality::cfg_ssl(Client& client, const AtCommandLine& command, bool query,
                                 const std::shared_ptr<Reply>& reply) {
  // "ssl",<client_idx>[,<SSL_enable>[,<ctx_index>]]; read back as +QMTCFG: "ssl",<SSL_enable>[,<ctx_index>]
  // (seeds/002 §3.3.1), the context only while SSL is on. A context left out is 0.
  if (query) {
    reply->line(client.ssl_enable == 1 ? fmt::format("+QMTCFG: \"ssl\",1,{}", client.ssl_context)
                                       : std::string("+QMTCFG: \"ssl\",0"));
    return reply->ok();
  }
  const auto enable = number(command, 2, 0, 1);
  const auto context = command.count() > 3 ? number(command, 3, 0, 5) : 0;
  if (!enable || !context || command.count() > 4) return bad_option(reply);
  client.ssl_enable = *enable;
  client.ssl_context = *context;
  reply->ok();
}

void QuectelPersonality::cfg_recv_mode(Client& client, const AtCommandLine& command, bool query,
                                       const std::shared_ptr<Reply>& reply) {
  if (query) {
    reply->line(fmt::format("+QMTCFG: \"recv/mode\",{},{}", client.recv_mode, client.recv_length));
    reply->ok();
    return;
  }
  const auto mode = number(command, 2, 0, 1);
  const auto length = command.count() > 3 ? number(command, 3, 0, 1) : client.recv_length;
  if (!mode || !length) return bad_option(reply);
  client.recv_mode = *mode;
  client.recv_length = *length;
  reply->ok();
}

// seeds/002 §3.3.1 "send/mode" and "dataformat": text (0) or hex (1) for the data sent after ">"
// and for the payload of +QMTRECV. Only text is simulated: the OCR'd document cannot tell whether
// <length> and <payload_len> count the hex digits or the bytes they stand for, and inventing one
// would make a host look right against the simulator and wrong against the module. Hex is refused.
void QuectelPersonality::cfg_send_mode(Client& client, const AtCommandLine& command, bool query,
                                       const std::shared_ptr<Reply>& reply) {
  if (!model_.data_options_act) return cfg_accepted(client, command, query, reply);
  if (query) {
    reply->line("+QMTCFG: \"send/mode\",0");
  } else if (command.count() != 3 || command.integer(2) != 0) {
    return bad_option(reply);
  }
  reply->ok();
}

void QuectelPersonality::cfg_data_format(Client& client, const AtCommandLine& command, bool query,
                                         const std::shared_ptr<Reply>& reply) {
  if (!model_.data_options_act) return cfg_accepted(client, command, query, reply);
  if (query) {
    reply->line("+QMTCFG: \"dataformat\",0,0");
  } else if (command.count() != 4 || command.integer(2) != 0 || command.integer(3) != 0) {
    return bad_option(reply);
  }
  reply->ok();
}

void QuectelPersonality::cfg_view_mode(Client& client, const AtCommandLine& command, bool query,
                                       const std::shared_ptr<Reply>& reply) {
  if (!model_.data_options_act) return cfg_accepted(client, command, query, reply);
  // seeds/002 §3.3.1 "view/mode" <view_mode>: 0 no echo, 1 echo of the data typed after ">" (the
  // OCR reads "0 AFE / 1 [HE", 不回显 / 回显). 1 echoes it whatever ATE says. 0 adds no echo of
  // its own: whether it also silences the echo ATE1 gives cannot be read, so ATE still decides.
  if (query) {
    reply->line(fmt::format("+QMTCFG: \"view/mode\",{}", client.echo_payload ? 1 : 0));
  } else if (auto v = number(command, 2, 0, 1); v && command.count() == 3) {
    client.echo_payload = *v == 1;
  } else {
    return bad_option(reply);
  }
  reply->ok();
}

void QuectelPersonality::cfg_accepted(Client&, const AtCommandLine&, bool,
                                      const std::shared_ptr<Reply>& reply) {
  reply->ok();  // accepted, and nothing the simulation models changes
}

}  // namespace modemsim
