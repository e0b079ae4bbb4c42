#include "quectel_personality.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "at_server.hpp"
#include "tls_client_context.hpp"

namespace modemsim {

namespace {

// The simulated device and SIM: the same whichever model plays them.
constexpr const char* kImei = "866123456789012";
constexpr const char* kImsi = "001010123456789";
constexpr const char* kIccid = "89860012345678901234";

constexpr int kCmeInvalidParameter = GppBasics::kCmeIncorrectParameters;

bool in_range(std::optional<long> v, long lo, long hi) {
  return v && *v >= lo && *v <= hi;
}

GppIdentity identity(const QuectelModel& model) {
  const std::string manufacturer(model.manufacturer);
  const std::string name(model.model);
  const std::string revision(model.revision);
  return GppIdentity{
      .manufacturer = manufacturer,
      .model = name,
      .revision = revision,
      .imei = kImei,
      .imsi = kImsi,
      // Quectel's ATI: manufacturer, model, "Revision: <revision>" (field-notes.md 1.6, a BG96).
      .ati = {manufacturer, name, "Revision: " + revision},
  };
}

const QuectelModel& model_or_default(const QuectelModel* model) {
  return model != nullptr ? *model : quectel_models().front();
}

}  // namespace

QuectelPersonality::QuectelPersonality(modem::EventLoop& loop, AtServer& server, World& world,
                                       QuectelSettings settings)
    : loop_(loop),
      server_(server),
      world_(world),
      settings_(std::move(settings)),
      model_(model_or_default(settings_.model)),
      clock_(loop.clock()),
      basics_(server, world, clock_, identity(model_),
              GppHooks{.radio_off =
                           [this] {
                             for (int idx = 0; idx < kClients; ++idx)
                               close_client(idx);
                           },
                       .reboot =
                           [this] {
                             if (settings_.request_reboot) settings_.request_reboot();
                           }}) {
  world_.on_pdp_deactivated = [this](int cid) { on_pdp_deactivated(cid); };
}

QuectelPersonality::~QuectelPersonality() {
  world_.on_pdp_deactivated = nullptr;
}

std::string QuectelPersonality::description() const {
  return basics_.identity().manufacturer + " " + basics_.identity().model;
}

std::vector<std::string> QuectelPersonality::boot_urcs() const {
  // The same on every model, as an EG25-G (of the seeds/001 family) sent them (field-notes.md 1.4):
  // RDY, +CFUN: 1, +CPIN: READY, +QUSIM: 1, +QIND: SMS DONE, +QIND: PB DONE.
  std::vector<std::string> urcs = {"RDY", "+CFUN: 1"};
  switch (world_.sim) {
    case World::Sim::kReady:
      urcs.insert(urcs.end(), {"+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE", "+QIND: PB DONE"});
      break;
    case World::Sim::kPinRequired:
      urcs.emplace_back("+CPIN: SIM PIN");
      break;
    case World::Sim::kAbsent:
      urcs.emplace_back("+CPIN: NOT INSERTED");
      break;
  }
  return urcs;
}

std::string QuectelPersonality::redact(std::string_view line) const {
  // AT+QMTCONN=<idx>,"<id>","<user>","<password>" and AT+QICSGP=<cid>,<type>,"<apn>","<user>","<password>"
  const std::string upper = [&] {
    std::string u(line.substr(0, std::min<std::size_t>(line.size(), 12)));
    for (char& c : u)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return u;
  }();
  int password_field = 0;
  if (upper.starts_with("AT+QMTCONN=")) password_field = 3;
  if (upper.starts_with("AT+QICSGP=")) password_field = 4;
  if (password_field == 0) return std::string(line);
  // Count fields outside quotes; blank out the password's quoted content.
  std::string out(line);
  int field = 0;
  bool in_quotes = false;
  for (char& c : out) {
    if (c == '"') {
      in_quotes = !in_quotes;
    } else if (!in_quotes && c == ',') {
      ++field;
    } else if (in_quotes && field == password_field) {
      c = '*';
    }
  }
  return out;
}

const std::map<std::string, QuectelPersonality::Handler>& QuectelPersonality::handlers() {
  // clang-format off
  static const std::map<std::string, Handler> table = {
      {"+QGMR", &QuectelPersonality::qgmr},
      {"+QCCID", &QuectelPersonality::iccid},
      {"+QCSQ", &QuectelPersonality::qcsq},
      {"+QNWINFO", &QuectelPersonality::qnwinfo},
      {"+QICSGP", &QuectelPersonality::qicsgp},
      {"+QIACT", &QuectelPersonality::qiact},
      {"+QIDEACT", &QuectelPersonality::qideact},
      {"+QFLST", &QuectelPersonality::qflst},
      {"+QFUPL", &QuectelPersonality::qfupl},
      {"+QFDEL", &QuectelPersonality::qfdel},
      {"+QSSLCFG", &QuectelPersonality::qsslcfg},
      {"+QLTS", &QuectelPersonality::qlts},
      {"+QNTP", &QuectelPersonality::qntp},
      {"+QMTCFG", &QuectelPersonality::qmtcfg},
      {"+QMTOPEN", &QuectelPersonality::qmtopen},
      {"+QMTCLOSE", &QuectelPersonality::qmtclose},
      {"+QMTCONN", &QuectelPersonality::qmtconn},
      {"+QMTDISC", &QuectelPersonality::qmtdisc},
      {"+QMTSUB", &QuectelPersonality::qmtsub},
      {"+QMTUNS", &QuectelPersonality::qmtuns},
      {"+QMTPUBEX", &QuectelPersonality::qmtpubex},
      {"+QMTPUB", &QuectelPersonality::qmtpub},
      {"+QMTRECV", &QuectelPersonality::qmtrecv},
  };
  // clang-format on
  return table;
}

void QuectelPersonality::handle(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  follow_network_time();
  const auto& table = handlers();
  if (const auto it = table.find(command.name); it != table.end()) {
    (this->*(it->second))(command, reply);
  } else if (!basics_.handle(command, reply)) {
    reply->error();  // unknown commands answer ERROR, as a module does
  }
}

// ---- Quectel identity, SIM and network commands --------------------------------------------

void QuectelPersonality::qgmr(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  reply->line(basics_.identity().revision);
  reply->ok();
}

void QuectelPersonality::iccid(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  if (world_.sim == World::Sim::kAbsent) {
    reply->cme_error(GppBasics::kCmeSimNotInserted);
    return;
  }
  reply->line(std::string("+QCCID: ") + kIccid);
  reply->ok();
}

void QuectelPersonality::qcsq(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  if (world_.registered()) {
    const int rssi_dbm = -113 + 2 * world_.csq_rssi;
    reply->line(fmt::format("+QCSQ: \"LTE\",{},{},{},{}", rssi_dbm, rssi_dbm - 25, 150, -10));
  } else {
    reply->line("+QCSQ: \"NOSERVICE\"");
  }
  reply->ok();
}

void QuectelPersonality::qnwinfo(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  reply->line(world_.registered()
                  ? fmt::format("+QNWINFO: \"FDD LTE\",\"{}\",\"LTE BAND 3\",1650", world_.operator_numeric)
                  : std::string("+QNWINFO: No Service"));
  reply->ok();
}

// ---- PDP contexts -------------------------------------------------------------------------

void QuectelPersonality::qicsgp(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  const auto cid = command.integer(0);
  if (command.form != AtCommandLine::Form::kWrite || !in_range(cid, 1, 16)) {
    reply->error();
    return;
  }
  PdpContext& context = world_.contexts[static_cast<int>(*cid)];
  if (command.count() == 1) {
    reply->line(fmt::format("+QICSGP: {},\"{}\",\"{}\",\"{}\",{}", context.type, context.apn,
                            context.username, context.password, context.auth));
    reply->ok();
    return;
  }
  if (!in_range(command.integer(1), 1, 3) || command.count() < 3) {
    reply->cme_error(kCmeInvalidParameter);
    return;
  }
  context.type = static_cast<int>(*command.integer(1));
  context.apn = command.string(2).value_or("");
  context.username = command.string(3).value_or("");
  context.password = command.string(4).value_or("");
  context.auth = static_cast<int>(command.integer(5).value_or(0));
  reply->ok();
}

void QuectelPersonality::qiact(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  if (command.form == AtCommandLine::Form::kRead) {
    for (const auto& [cid, context] : world_.contexts) {
      if (context.active)
        reply->line(fmt::format("+QIACT: {},1,{},\"{}\"", cid, context.type, context.address));
    }
    reply->ok();
    return;
  }
  const auto cid = command.integer(0);
  if (command.form != AtCommandLine::Form::kWrite || !in_range(cid, 1, 16)) {
    reply->error();
    return;
  }
  PdpContext& context = world_.contexts[static_cast<int>(*cid)];
  // field-notes.md 1.1 and 2.4: an already active context answers a bare ERROR.
  if (context.active || !world_.registered() || take_failure("+QIACT")) {
    reply->error();
    return;
  }
  context.active = true;
  context.address = fmt::format("10.64.{}.{}", *cid, 2);
  reply->ok();
}

void QuectelPersonality::qideact(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  const auto cid = command.integer(0);
  if (command.form != AtCommandLine::Form::kWrite || !in_range(cid, 1, 16)) {
    reply->error();
    return;
  }
  for (int idx = 0; idx < kClients; ++idx) {
    if (clients_[idx].pdp_cid == *cid) close_client(idx);
  }
  auto it = world_.contexts.find(static_cast<int>(*cid));
  if (it != world_.contexts.end()) {
    it->second.active = false;
    it->second.address.clear();
  }
  reply->ok();
}

void QuectelPersonality::on_pdp_deactivated(int cid) {
  // The network took the context away: +QIURC: "pdpdeact",<cid>, and every MQTT connection over
  // it is gone (reported as closed by the peer).
  server_.urc(fmt::format("+QIURC: \"pdpdeact\",{}", cid));
  for (int idx = 0; idx < kClients; ++idx) {
    Client& client = clients_[idx];
    if (client.pdp_cid != cid || !client.mqtt || !client.mqtt->open_or_connected()) continue;
    close_client(idx);
    server_.urc(fmt::format("+QMTSTAT: {},1", idx));
  }
}

// ---- MQTT -----------------------------------------------------------------------------------

QuectelPersonality::Client* QuectelPersonality::client_arg(const AtCommandLine& command,
                                                           const std::shared_ptr<Reply>& reply) {
  const auto idx = command.integer(0);
  if (!in_range(idx, 0, kClients - 1)) {
    bad_argument(reply);
    return nullptr;
  }
  return &clients_[static_cast<std::size_t>(*idx)];
}

namespace {

void refuse(const std::shared_ptr<Reply>& reply, ErrorForm form) {
  if (form == ErrorForm::kCmeError) {
    reply->cme_error(kCmeInvalidParameter);
  } else {
    reply->error();
  }
}

}  // namespace

void QuectelPersonality::bad_option(const std::shared_ptr<Reply>& reply) const {
  refuse(reply, model_.bad_option);
}

void QuectelPersonality::bad_argument(const std::shared_ptr<Reply>& reply) const {
  refuse(reply, model_.bad_argument);
}

void QuectelPersonality::make_client(int idx) {
  SimMqttClient::Events events;
  events.opened = [this, idx](SimMqttClient::OpenResult result, const std::string& why) {
    using R = SimMqttClient::OpenResult;
    if (result == R::kTlsFailed) {
      spdlog::warn("+QMTOPEN: {},-1: TLS handshake with \"{}\" failed: {}", idx, clients_[idx].host, why);
    }
    // 5: network connection error; -1: the generic failure a TLS error gives (field-notes.md 3.3)
    server_.urc(fmt::format("+QMTOPEN: {},{}", idx,
                            result == R::kOpen        ? 0
                            : result == R::kTlsFailed ? -1
                                                      : 5));
  };
  events.connected = [this, idx](int code) {
    // +QMTCONN: <idx>,<result>[,<ret_code>]: result 0 with the CONNACK code, 2 when no CONNACK came.
    server_.urc(code < 0 ? fmt::format("+QMTCONN: {},2", idx) : fmt::format("+QMTCONN: {},0,{}", idx, code));
  };
  events.subscribed = [this, idx](int msgid, std::vector<int> granted) {
    std::string values;
    for (int q : granted)
      values += fmt::format(",{}", q);
    server_.urc(fmt::format("+QMTSUB: {},{},0{}", idx, msgid, values));
  };
  events.unsubscribed = [this, idx](int msgid) { server_.urc(fmt::format("+QMTUNS: {},{},0", idx, msgid)); };
  events.message = [this, idx](MqttMessage message) { deliver(idx, std::move(message)); };
  events.published = [this, idx](int msgid, int result, int count) {
    Client& client = clients_[idx];
    auto name = client.result_urc_by_msgid.find(msgid);
    const std::string urc = name != client.result_urc_by_msgid.end() ? name->second : "+QMTPUBEX";
    if (result == 1) {
      // <timeout_notice> 0: "not report timeout message when transmitting packet"
      if (client.timeout_notice) server_.urc(fmt::format("{}: {},{},1,{}", urc, idx, msgid, count));
      return;
    }
    if (name != client.result_urc_by_msgid.end()) client.result_urc_by_msgid.erase(name);
    server_.urc(fmt::format("{}: {},{},{}", urc, idx, msgid, result));
  };
  events.lost = [this, idx] {
    server_.urc(fmt::format("+QMTSTAT: {},1", idx));  // closed or reset by the peer
  };
  if (clients_[idx].mqtt) {
    messages_up_before_ += clients_[idx].mqtt->messages_up();
    messages_down_before_ += clients_[idx].mqtt->messages_down();
  }
  clients_[idx].mqtt = std::make_unique<SimMqttClient>(loop_, settings_.broker_host, settings_.broker_port,
                                                       settings_.rtt, std::move(events));
  clients_[idx].mqtt->set_network_up(world_.network_up);
}

void QuectelPersonality::close_client(int idx) {
  Client& client = clients_[idx];
  ++client.ping_generation;
  client.host.clear();
  client.port = 0;
  for (auto& slot : client.slots)
    slot.reset();
  client.backlog.clear();
  if (client.mqtt) client.mqtt->drop();
}

std::optional<int> QuectelPersonality::take_failure(const std::string& command) {
  auto it = next_failures_.find(command);
  if (it == next_failures_.end()) return std::nullopt;
  const int code = it->second;
  next_failures_.erase(it);
  return code;
}

void QuectelPersonality::qmtopen(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  if (command.form == AtCommandLine::Form::kRead) {
    for (int idx = 0; idx < kClients; ++idx) {
      const Client& client = clients_[idx];
      if (client.mqtt && client.mqtt->open_or_connected()) {
        reply->line(fmt::format("+QMTOPEN: {},\"{}\",{}", idx, client.host, client.port));
      }
    }
    reply->ok();
    return;
  }
  Client* client = client_arg(command, reply);
  if (client == nullptr) return;
  const int idx = static_cast<int>(*command.integer(0));
  const auto host = command.string(1);
  const auto port = command.integer(2);
  // <host_name>: "The maximum size is 100 bytes"; <port> 1-65535 (seeds/001 and 002 §3.3.2 alike)
  if (command.count() != 3 || !host || host->empty() || host->size() > 100 || !in_range(port, 1, 65535)) {
    bad_argument(reply);
    return;
  }
  reply->ok();
  auto report = [this, idx](int result) { server_.urc(fmt::format("+QMTOPEN: {},{}", idx, result)); };
  if (client->mqtt && client->mqtt->open_or_connected()) return report(2);  // identifier occupied
  if (const auto forced = take_failure("+QMTOPEN")) return report(*forced);
  const auto context = world_.contexts.find(client->pdp_cid);
  if (context == world_.contexts.end() || !context->second.active) return report(3);  // PDP not active
  if (!world_.network_up) return report(-1);
  std::optional<TlsClientConfig> tls;
  if (client->ssl_enable == 1) {
    tls = tls_for(idx, *host);
    if (!tls) return report(-1);  // the generic TLS failure (field-notes.md 3.3)
  }
  client->host = *host;
  client->port = static_cast<int>(*port);
  make_client(idx);
  client->mqtt->open(std::move(tls));
}

std::optional<TlsClientConfig> QuectelPersonality::tls_for(int idx, const std::string& host) const {
  const int ctx = clients_[idx].ssl_context;
  auto made = make_tls_client(ssl_contexts_[ctx], files_, host, clock_.utc());
  if (!made) {
    spdlog::warn("+QMTOPEN: {},-1: SSL context {} cannot connect to \"{}\": {}", idx, ctx, host,
                 made.error().message);
    return std::nullopt;
  }
  return std::move(made).value();
}

void QuectelPersonality::qmtclose(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  Client* client = client_arg(command, reply);
  if (client == nullptr) return;
  const int idx = static_cast<int>(*command.integer(0));
  if (!client->mqtt || !client->mqtt->open_or_connected()) {
    reply->error();
    return;
  }
  close_client(idx);
  reply->ok();
  server_.urc(fmt::format("+QMTCLOSE: {},0", idx));
}

void QuectelPersonality::qmtconn(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  if (command.form == AtCommandLine::Form::kRead) {
    for (int idx = 0; idx < kClients; ++idx) {
      const Client& client = clients_[idx];
      if (!client.mqtt || !client.mqtt->open_or_connected()) continue;
      // <state>: 1 initial, 2 connecting, 3 connected, 4 disconnecting
      const auto s = client.mqtt->state();
      const int state = s == SimMqttClient::State::kConnected    ? 3
                        : s == SimMqttClient::State::kConnecting ? 2
                                                                 : 1;
      reply->line(fmt::format("+QMTCONN: {},{}", idx, state));
    }
    reply->ok();
    return;
  }
  Client* client = client_arg(command, reply);
  if (client == nullptr) return;
  const auto client_id = command.string(1);
  // seeds/001: "<clientID>"[,"<username>"[,"<password>"]]; seeds/002 §3.3.4:
  // <clientid>[,<username>,<password>], a user name only with its password.
  const bool user_without_password = command.count() == 3 && model_.credentials_in_pairs;
  if (!client_id || client_id->empty() || command.count() > 4 || user_without_password) {
    bad_argument(reply);
    return;
  }
  if (!client->mqtt || client->mqtt->state() != SimMqttClient::State::kOpen) {
    reply->error();
    return;
  }
  MqttConnectOptions options;
  options.client_id = *client_id;
  if (command.count() >= 3) options.username = command.string(2);
  if (command.count() >= 4) options.password = command.string(3);
  options.keepalive_s = client->keepalive_s;
  options.clean_session = client->clean_session;
  options.protocol_version = client->version;
  options.will = client->will;
  reply->ok();
  client->mqtt->connect(options);
}

void QuectelPersonality::qmtdisc(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  Client* client = client_arg(command, reply);
  if (client == nullptr) return;
  const int idx = static_cast<int>(*command.integer(0));
  if (!client->mqtt || !client->mqtt->open_or_connected()) {
    reply->error();
    return;
  }
  ++client->ping_generation;
  client->host.clear();
  client->port = 0;
  for (auto& slot : client->slots)
    slot.reset();
  client->backlog.clear();
  client->mqtt->disconnect();
  reply->ok();
  server_.urc(fmt::format("+QMTDISC: {},0", idx));
}

void QuectelPersonality::qmtsub(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  Client* client = client_arg(command, reply);
  if (client == nullptr) return;
  const auto msgid = command.integer(1);
  std::vector<std::pair<std::string, int>> topics;
  for (std::size_t i = 2; i + 1 < command.count(); i += 2) {
    const auto qos = command.integer(i + 1);
    if (!command.quoted(i) || command.string(i)->empty() || !in_range(qos, 0, 2)) return bad_argument(reply);
    topics.emplace_back(*command.string(i), static_cast<int>(*qos));
  }
  if (!in_range(msgid, 1, 65535) || topics.empty() || command.count() % 2 != 0) {
    bad_argument(reply);
    return;
  }
  if (!client->mqtt || !client->mqtt->subscribe(static_cast<int>(*msgid), topics)) {
    reply->error();
    return;
  }
  reply->ok();
}

void QuectelPersonality::qmtuns(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  Client* client = client_arg(command, reply);
  if (client == nullptr) return;
  const auto msgid = command.integer(1);
  std::vector<std::string> topics;
  for (std::size_t i = 2; i < command.count(); ++i) {
    if (!command.quoted(i) || command.string(i)->empty()) return bad_argument(reply);
    topics.push_back(*command.string(i));
  }
  if (!in_range(msgid, 1, 65535) || topics.empty()) {
    bad_argument(reply);
    return;
  }
  if (!client->mqtt || !client->mqtt->unsubscribe(static_cast<int>(*msgid), topics)) {
    reply->error();
    return;
  }
  reply->ok();
}

void QuectelPersonality::publish(int idx, int msgid, int qos, bool retain, const std::string& topic,
                                 std::string payload, const std::shared_ptr<Reply>& reply,
                                 const char* urc_name) {
  Client& client = clients_[idx];
  if (!client.mqtt || client.mqtt->state() != SimMqttClient::State::kConnected) {
    reply->error();
    return;
  }
  // QMTPUBEX and QMTPUB report their results under their own names.
  client.result_urc_by_msgid[msgid] = urc_name;
  if (!client.mqtt->publish(msgid, topic, payload, qos, retain, client.timeouts)) {
    client.result_urc_by_msgid.erase(msgid);
    reply->error();
    return;
  }
  auto* mqtt = client.mqtt.get();
  max_in_flight_ = std::max(max_in_flight_, mqtt->in_flight());
  reply->ok();
}

void QuectelPersonality::qmtpubex(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  Client* client = client_arg(command, reply);
  if (client == nullptr) return;
  const int idx = static_cast<int>(*command.integer(0));
  const auto msgid = command.integer(1);
  const auto qos = command.integer(2);
  const auto retain = command.integer(3);
  const auto length = command.integer(5);
  const bool msgid_ok = qos == 0 ? msgid == 0 : in_range(msgid, 1, 65535);
  if (command.count() != 6 || !in_range(qos, 0, 2) || !msgid_ok || !in_range(retain, 0, 1) ||
      !command.quoted(4) || command.string(4)->empty() ||
      !in_range(length, 0, static_cast<long>(kMaxPublishBytes))) {
    bad_argument(reply);
    return;
  }
  if (!client->mqtt || client->mqtt->state() != SimMqttClient::State::kConnected) {
    reply->error();
    return;
  }
  // "The maximum quantity of transmitting packet should not be greater than that of inflight
  // windows (5); otherwise, ERROR will be returned." (AT+QMTPUBEX note 1)
  if (*qos > 0 && client->mqtt->in_flight() >= kInFlightWindow) {
    reply->error();
    return;
  }
  const std::string topic = *command.string(4);
  reply->prompt(
      static_cast<std::size_t>(*length),
      [this, idx, msgid = static_cast<int>(*msgid), qos = static_cast<int>(*qos), retain = *retain == 1,
       topic, reply](std::string payload) {
        publish(idx, msgid, qos, retain, topic, std::move(payload), reply, "+QMTPUBEX");
      },
      client->echo_payload ? Reply::DataEcho::kAlways : Reply::DataEcho::kAsCommands);
}

void QuectelPersonality::qmtpub(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  if (!model_.qmtpub) {
    reply->error();  // a command this module does not have
    return;
  }
  Client* client = client_arg(command, reply);
  if (client == nullptr) return;
  const int idx = static_cast<int>(*command.integer(0));
  const auto msgid = command.integer(1);
  const auto qos = command.integer(2);
  const auto retain = command.integer(3);
  const bool msgid_ok = qos == 0 ? msgid == 0 : in_range(msgid, 1, 65535);
  if (command.count() < 5 || command.count() > 6 || !in_range(qos, 0, 2) || !msgid_ok ||
      !in_range(retain, 0, 1) || !command.quoted(4) || command.string(4)->empty() || !client->mqtt ||
      client->mqtt->state() != SimMqttClient::State::kConnected ||
      (*qos > 0 && client->mqtt->in_flight() >= kInFlightWindow)) {
    reply->error();
    return;
  }
  const std::string topic = *command.string(4);
  auto go = [this, idx, msgid = static_cast<int>(*msgid), qos = static_cast<int>(*qos), retain = *retain == 1,
             topic, reply](std::string payload) {
    publish(idx, msgid, qos, retain, topic, std::move(payload), reply, "+QMTPUB");
  };
  if (command.count() == 5) {
    reply->prompt_until_ctrl_z(go);  // "> ", data, Ctrl-Z (field-notes.md 2.2)
  } else if (command.quoted(5)) {
    go(*command.string(5));  // inline: AT+QMTPUB=0,1,1,0,"value","123" (field-notes.md 2.2)
  } else if (in_range(command.integer(5), 0, static_cast<long>(kMaxPublishBytes))) {
    reply->prompt(static_cast<std::size_t>(*command.integer(5)), go);  // BG770A form (field-notes.md 1.1)
  } else {
    reply->error();
  }
}

std::string QuectelPersonality::recv_line(int idx, const MqttMessage& message) const {
  // +QMTRECV: <client_idx>,<msgID>,"<topic>",[<payload_len>,]"<payload>" with the topic and the
  // payload raw, unescaped, as the modules send them (field-notes.md 2.1).
  const Client& client = clients_[idx];
  const std::string head = fmt::format("+QMTRECV: {},{},\"{}\",", idx, message.mid, message.topic);
  if (client.recv_length == 1 && settings_.recv_form == RecvForm::kDocumented) {
    return head + fmt::format("{},\"", message.payload.size()) + message.payload + "\"";
  }
  if (client.recv_length == 1 && settings_.recv_form == RecvForm::kSplit) {
    return head + fmt::format("{}\r\n", message.payload.size()) + message.payload;
  }
  return head + "\"" + message.payload + "\"";
}

void QuectelPersonality::deliver(int idx, MqttMessage message) {
  Client& client = clients_[idx];
  if (client.recv_mode == 0) {
    server_.urc(recv_line(idx, message));
    return;
  }
  client.backlog.push_back(std::move(message));
  fill_slots(idx);
}

void QuectelPersonality::fill_slots(int idx) {
  Client& client = clients_[idx];
  for (std::size_t slot = 0; slot < kReceiveSlots && !client.backlog.empty(); ++slot) {
    if (client.slots[slot]) continue;
    client.slots[slot] = std::move(client.backlog.front());
    client.backlog.pop_front();
    server_.urc(fmt::format("+QMTRECV: {},{}", idx, slot));  // buffered: read it with AT+QMTRECV
  }
}

void QuectelPersonality::qmtrecv(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  if (command.form == AtCommandLine::Form::kTest) {
    reply->ok();
    return;
  }
  if (command.form == AtCommandLine::Form::kRead) {
    for (int idx = 0; idx < kClients; ++idx) {
      const Client& client = clients_[idx];
      if (!client.mqtt || client.mqtt->state() != SimMqttClient::State::kConnected) continue;
      std::string line = fmt::format("+QMTRECV: {}", idx);
      for (const auto& slot : client.slots)
        line += slot ? ",1" : ",0";
      reply->line(line);
    }
    reply->ok();
    return;
  }
  Client* client = client_arg(command, reply);
  if (client == nullptr) return;
  const int idx = static_cast<int>(*command.integer(0));
  if (!client->mqtt || client->mqtt->state() != SimMqttClient::State::kConnected) {
    reply->error();  // "If there is no MQTT connection, response: ERROR"
    return;
  }
  std::size_t first = 0;
  std::size_t last = kReceiveSlots - 1;
  if (command.count() > 1) {
    const auto id = command.integer(1);
    if (!in_range(id, 0, static_cast<long>(kReceiveSlots) - 1)) {
      bad_argument(reply);
      return;
    }
    first = last = static_cast<std::size_t>(*id);
  }
  for (std::size_t slot = first; slot <= last; ++slot) {
    if (!client->slots[slot]) continue;
    reply->line(recv_line(idx, *client->slots[slot]));
    client->slots[slot].reset();
  }
  reply->ok();
  fill_slots(idx);  // their URCs follow the OK
}

// ---- faults and figures --------------------------------------------------------------------

void QuectelPersonality::power_cycle() {
  for (int idx = 0; idx < kClients; ++idx) {
    close_client(idx);
    if (clients_[idx].mqtt) {
      messages_up_before_ += clients_[idx].mqtt->messages_up();
      messages_down_before_ += clients_[idx].mqtt->messages_down();
    }
    clients_[idx] = Client{};  // QMTCFG settings are lost at power-down (field-notes.md 2.4)
  }
  basics_.power_cycle();
  next_failures_.clear();
  // UFS keeps its files; RAM, the SSL contexts and the clock start afresh (field-notes.md 3.1).
  files_.power_cycle();
  ssl_contexts_ = {};
  clock_.reset();
  was_registered_ = false;
  network_time_known_ = false;
  ++life_;
}

std::string QuectelPersonality::drop_mqtt_session(int idx, int code) {
  if (idx < 0 || idx >= kClients) return "client index must be 0-5";
  if (model_.max_qmtstat_code && (code < 1 || code > *model_.max_qmtstat_code)) {
    return fmt::format("+QMTSTAT code {} is not defined for the {} ({} defines 1-{}, the rest is reserved)",
                       code, model_.name, model_.document, *model_.max_qmtstat_code);
  }
  Client& client = clients_[idx];
  if (!client.mqtt || !client.mqtt->open_or_connected()) return fmt::format("client {} is not open", idx);
  close_client(idx);
  server_.urc(fmt::format("+QMTSTAT: {},{}", idx, code));
  return {};
}

void QuectelPersonality::arm_ping_watch(int idx) {
  // With the network down no PINGRESP can come: after one keep-alive period the module reports
  // +QMTPING: <idx>,1, and "qmtping" seconds later gives up with +QMTSTAT: <idx>,2.
  Client& client = clients_[idx];
  if (!client.mqtt || client.mqtt->state() != SimMqttClient::State::kConnected || client.keepalive_s == 0)
    return;
  const auto generation = ++client.ping_generation;
  loop_.call_after(std::chrono::seconds(client.keepalive_s), [this, idx, generation] {
    Client& c = clients_[idx];
    if (c.ping_generation != generation || world_.network_up) return;
    server_.urc(fmt::format("+QMTPING: {},1", idx));
    loop_.call_after(std::chrono::seconds(c.ping_interval_s), [this, idx, generation] {
      Client& again = clients_[idx];
      if (again.ping_generation != generation || world_.network_up) return;
      close_client(idx);
      server_.urc(fmt::format("+QMTSTAT: {},2", idx));
    });
  });
}

void QuectelPersonality::network_changed() {
  for (int idx = 0; idx < kClients; ++idx) {
    Client& client = clients_[idx];
    if (client.mqtt) client.mqtt->set_network_up(world_.network_up);
    if (!world_.network_up) {
      arm_ping_watch(idx);
    } else {
      ++client.ping_generation;
    }
  }
}

std::string QuectelPersonality::fail_next(const std::string& command, int code) {
  if (command == "qmtopen") {
    if (code < -1 || code > 5) return "QMTOPEN result codes are -1..5";
    next_failures_["+QMTOPEN"] = code;
  } else if (command == "qiact") {
    next_failures_["+QIACT"] = code;
  } else {
    return "unknown command '" + command + "' (qmtopen, qiact)";
  }
  return {};
}

Personality::ServiceFigures QuectelPersonality::service_figures() const {
  return service_figures_;
}

Personality::MqttFigures QuectelPersonality::mqtt_figures() const {
  MqttFigures figures;
  figures.messages_up = messages_up_before_;
  figures.messages_down = messages_down_before_;
  for (const Client& client : clients_) {
    if (!client.mqtt) continue;
    figures.messages_up += client.mqtt->messages_up();
    figures.messages_down += client.mqtt->messages_down();
    if (client.mqtt->state() == SimMqttClient::State::kConnected) ++figures.sessions;
  }
  figures.max_in_flight = max_in_flight_;
  return figures;
}

}  // namespace modemsim
