#include "ec200u_personality.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "at_server.hpp"

namespace modemsim {

namespace {

constexpr const char* kManufacturer = "Quectel";
constexpr const char* kModel = "EC200U";
constexpr const char* kRevision = "EC200UCNAAR02A05M08";
constexpr const char* kImei = "866123456789012";
constexpr const char* kImsi = "001010123456789";
constexpr const char* kIccid = "89860012345678901234";

constexpr int kCmeInvalidParameter = GppBasics::kCmeIncorrectParameters;

bool in_range(std::optional<long> v, long lo, long hi) {
  return v && *v >= lo && *v <= hi;
}

GppIdentity identity() {
  return GppIdentity{
      .manufacturer = kManufacturer,
      .model = kModel,
      .revision = kRevision,
      .imei = kImei,
      .imsi = kImsi,
      // Quectel's ATI: manufacturer, model, "Revision: <revision>" (field-notes.md 1.6, a BG96).
      .ati = {kManufacturer, kModel, std::string("Revision: ") + kRevision},
  };
}

}  // namespace

Ec200uPersonality::Ec200uPersonality(modem::EventLoop& loop, AtServer& server, World& world,
                                     Ec200uSettings settings)
    : loop_(loop),
      server_(server),
      world_(world),
      settings_(std::move(settings)),
      basics_(server, world, identity(),
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

Ec200uPersonality::~Ec200uPersonality() {
  world_.on_pdp_deactivated = nullptr;
}

std::vector<std::string> Ec200uPersonality::boot_urcs() const {
  // field-notes.md 1.4 (EG25-G): RDY, +CFUN: 1, +CPIN: READY, +QUSIM: 1, +QIND: SMS DONE, PB DONE.
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

std::string Ec200uPersonality::redact(std::string_view line) const {
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

const std::map<std::string, Ec200uPersonality::Handler>& Ec200uPersonality::handlers() {
  static const std::map<std::string, Handler> table = {
      {"+QGMR", &Ec200uPersonality::qgmr},         {"+QCCID", &Ec200uPersonality::iccid},
      {"+QCSQ", &Ec200uPersonality::qcsq},         {"+QNWINFO", &Ec200uPersonality::qnwinfo},
      {"+QICSGP", &Ec200uPersonality::qicsgp},     {"+QIACT", &Ec200uPersonality::qiact},
      {"+QIDEACT", &Ec200uPersonality::qideact},   {"+QMTCFG", &Ec200uPersonality::qmtcfg},
      {"+QMTOPEN", &Ec200uPersonality::qmtopen},   {"+QMTCLOSE", &Ec200uPersonality::qmtclose},
      {"+QMTCONN", &Ec200uPersonality::qmtconn},   {"+QMTDISC", &Ec200uPersonality::qmtdisc},
      {"+QMTSUB", &Ec200uPersonality::qmtsub},     {"+QMTUNS", &Ec200uPersonality::qmtuns},
      {"+QMTPUBEX", &Ec200uPersonality::qmtpubex}, {"+QMTPUB", &Ec200uPersonality::qmtpub},
      {"+QMTRECV", &Ec200uPersonality::qmtrecv},
  };
  return table;
}

void Ec200uPersonality::handle(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  const auto& table = handlers();
  if (const auto it = table.find(command.name); it != table.end()) {
    (this->*(it->second))(command, reply);
  } else if (!basics_.handle(command, reply)) {
    reply->error();  // unknown commands answer ERROR, as a module does
  }
}

// ---- Quectel identity, SIM and network commands --------------------------------------------

void Ec200uPersonality::qgmr(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  reply->line(basics_.identity().revision);
  reply->ok();
}

void Ec200uPersonality::iccid(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  if (world_.sim == World::Sim::kAbsent) {
    reply->cme_error(GppBasics::kCmeSimNotInserted);
    return;
  }
  reply->line(std::string("+QCCID: ") + kIccid);
  reply->ok();
}

void Ec200uPersonality::qcsq(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  if (world_.registered()) {
    const int rssi_dbm = -113 + 2 * world_.csq_rssi;
    reply->line(fmt::format("+QCSQ: \"LTE\",{},{},{},{}", rssi_dbm, rssi_dbm - 25, 150, -10));
  } else {
    reply->line("+QCSQ: \"NOSERVICE\"");
  }
  reply->ok();
}

void Ec200uPersonality::qnwinfo(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  reply->line(world_.registered()
                  ? fmt::format("+QNWINFO: \"FDD LTE\",\"{}\",\"LTE BAND 3\",1650", world_.operator_numeric)
                  : std::string("+QNWINFO: No Service"));
  reply->ok();
}

// ---- PDP contexts -------------------------------------------------------------------------

void Ec200uPersonality::qicsgp(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
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

void Ec200uPersonality::qiact(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
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

void Ec200uPersonality::qideact(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
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

void Ec200uPersonality::on_pdp_deactivated(int cid) {
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

Ec200uPersonality::Client* Ec200uPersonality::client_arg(const AtCommandLine& command,
                                                         const std::shared_ptr<Reply>& reply) {
  const auto idx = command.integer(0);
  if (!in_range(idx, 0, kClients - 1)) {
    reply->error();
    return nullptr;
  }
  return &clients_[static_cast<std::size_t>(*idx)];
}

void Ec200uPersonality::make_client(int idx) {
  SimMqttClient::Events events;
  events.opened = [this, idx](bool ok) {
    server_.urc(fmt::format("+QMTOPEN: {},{}", idx, ok ? 0 : 5));  // 5: network connection error
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

void Ec200uPersonality::close_client(int idx) {
  Client& client = clients_[idx];
  ++client.ping_generation;
  client.host.clear();
  client.port = 0;
  for (auto& slot : client.slots)
    slot.reset();
  client.backlog.clear();
  if (client.mqtt) client.mqtt->drop();
}

void Ec200uPersonality::qmtcfg(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  if (command.form == AtCommandLine::Form::kTest) {
    reply->line("+QMTCFG: \"version\",(0-5),(3,4)");
    reply->line("+QMTCFG: \"pdpcid\",(0-5),(1-16)");
    reply->line("+QMTCFG: \"ssl\",(0-5),(0,1),(0-5)");
    reply->line("+QMTCFG: \"keepalive\",(0-5),(0-3600)");
    reply->line("+QMTCFG: \"session\",(0-5),(0,1)");
    reply->line("+QMTCFG: \"timeout\",(0-5),(1-60),(0-10),(0,1)");
    reply->line("+QMTCFG: \"will\",(0-5),(0,1),(0-2),(0,1),\"willtopic\",\"willmessage\"");
    reply->line("+QMTCFG: \"recv/mode\",(0-5),(0,1),(0,1)");
    reply->line("+QMTCFG: \"qmtping\",(0-5),(5-60)");
    reply->ok();
    return;
  }
  std::string option = command.string(0).value_or("");
  for (char& c : option)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto idx = command.integer(1);
  if (command.form != AtCommandLine::Form::kWrite || !in_range(idx, 0, kClients - 1)) {
    reply->error();
    return;
  }
  Client& client = clients_[static_cast<std::size_t>(*idx)];
  const bool query = command.count() == 2;
  // "If MQTT connection is not established, the response is OK, else ERROR" (QMTCFG write forms).
  if (!query && client.mqtt && client.mqtt->open_or_connected()) {
    reply->error();
    return;
  }
  auto number = [&](std::size_t i, long lo, long hi) -> std::optional<int> {
    const auto v = command.integer(i);
    if (!in_range(v, lo, hi)) return std::nullopt;
    return static_cast<int>(*v);
  };
  auto bad = [&] { reply->cme_error(kCmeInvalidParameter); };

  // The options that are one integer within a documented range (AT+QMTCFG parameter table).
  struct IntegerOption {
    const char* name;
    long lo;
    long hi;
    int Client::*value;
  };
  static constexpr IntegerOption kIntegerOptions[] = {
      {"version", 3, 4, &Client::version},
      {"pdpcid", 1, 16, &Client::pdp_cid},
      {"keepalive", 0, 3600, &Client::keepalive_s},
      {"qmtping", 5, 60, &Client::ping_interval_s},
  };
  const auto integer_option = std::find_if(std::begin(kIntegerOptions), std::end(kIntegerOptions),
                                           [&](const IntegerOption& o) { return option == o.name; });

  if (integer_option != std::end(kIntegerOptions)) {
    if (query) {
      reply->line(fmt::format("+QMTCFG: \"{}\",{}", integer_option->name, client.*(integer_option->value)));
    } else if (auto v = number(2, integer_option->lo, integer_option->hi)) {
      client.*(integer_option->value) = *v;
    } else {
      return bad();
    }
  } else if (option == "session") {
    if (query) {
      reply->line(fmt::format("+QMTCFG: \"session\",{}", client.clean_session ? 1 : 0));
    } else if (auto v = number(2, 0, 1)) {
      client.clean_session = *v == 1;
    } else {
      return bad();
    }
  } else if (option == "timeout") {
    if (query) {
      reply->line(fmt::format("+QMTCFG: \"timeout\",{},{},{}", client.timeouts.packet_timeout_s,
                              client.timeouts.retry_times, client.timeout_notice ? 1 : 0));
    } else if (auto t = number(2, 1, 60)) {
      client.timeouts.packet_timeout_s = *t;
      if (command.count() > 3) {
        const auto r = number(3, 0, 10);
        if (!r) return bad();
        client.timeouts.retry_times = *r;
      }
      if (command.count() > 4) {
        const auto n = number(4, 0, 1);
        if (!n) return bad();
        client.timeout_notice = *n == 1;
      }
    } else {
      return bad();
    }
  } else if (option == "will") {
    if (query) {
      reply->line(client.will
                      ? fmt::format("+QMTCFG: \"will\",1,{},{},\"{}\",\"{}\"", client.will->qos,
                                    client.will->retain ? 1 : 0, client.will->topic, client.will->payload)
                      : std::string("+QMTCFG: \"will\",0"));
    } else {
      const auto flag = number(2, 0, 1);
      if (!flag) return bad();
      if (*flag == 0) {
        client.will.reset();
      } else {
        // "If <will_flag>=1, then <will_qos>, <will_retain>, <will_topic> and <will_msg> must be present."
        const auto qos = number(3, 0, 2);
        const auto retain = number(4, 0, 1);
        if (!qos || !retain || command.count() < 7 || command.string(5)->empty()) return bad();
        client.will = MqttWill{*command.string(5), *command.string(6), *qos, *retain == 1};
      }
    }
  } else if (option == "ssl") {
    if (query) {
      reply->line(fmt::format("+QMTCFG: \"ssl\",{},{}", client.ssl_enable, client.ssl_context));
    } else if (auto v = number(2, 0, 1)) {
      client.ssl_enable = *v;
      client.ssl_context = number(3, 0, 5).value_or(0);
    } else {
      return bad();
    }
  } else if (option == "recv/mode") {
    if (query) {
      reply->line(fmt::format("+QMTCFG: \"recv/mode\",{},{}", client.recv_mode, client.recv_length));
    } else if (auto m = number(2, 0, 1)) {
      client.recv_mode = *m;
      if (command.count() > 3) {
        const auto l = number(3, 0, 1);
        if (!l) return bad();
        client.recv_length = *l;
      }
    } else {
      return bad();
    }
  } else if (option == "willex" || option == "send/mode" || option == "dataformat" || option == "view/mode" ||
             option == "edit/timeout" || option == "aliauth" || option == "onenet" || option == "hwauth") {
    // EC200x options (seed 002) that change nothing the simulation models: accepted.
  } else {
    return bad();
  }
  reply->ok();
}

std::optional<int> Ec200uPersonality::take_failure(const std::string& command) {
  auto it = next_failures_.find(command);
  if (it == next_failures_.end()) return std::nullopt;
  const int code = it->second;
  next_failures_.erase(it);
  return code;
}

void Ec200uPersonality::qmtopen(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
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
  if (command.count() != 3 || !host || host->empty() || host->size() > 100 || !in_range(port, 1, 65535)) {
    reply->error();
    return;
  }
  reply->ok();
  auto report = [this, idx](int result) { server_.urc(fmt::format("+QMTOPEN: {},{}", idx, result)); };
  if (client->mqtt && client->mqtt->open_or_connected()) return report(2);  // identifier occupied
  if (const auto forced = take_failure("+QMTOPEN")) return report(*forced);
  const auto context = world_.contexts.find(client->pdp_cid);
  if (context == world_.contexts.end() || !context->second.active) return report(3);  // PDP not active
  if (!world_.network_up) return report(-1);
  client->host = *host;
  client->port = static_cast<int>(*port);
  make_client(idx);
  client->mqtt->open();
}

void Ec200uPersonality::qmtclose(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
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

void Ec200uPersonality::qmtconn(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
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
  if (!client_id || client_id->empty() || command.count() > 4 || !client->mqtt ||
      client->mqtt->state() != SimMqttClient::State::kOpen) {
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

void Ec200uPersonality::qmtdisc(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
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

void Ec200uPersonality::qmtsub(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  Client* client = client_arg(command, reply);
  if (client == nullptr) return;
  const auto msgid = command.integer(1);
  std::vector<std::pair<std::string, int>> topics;
  for (std::size_t i = 2; i + 1 < command.count(); i += 2) {
    const auto qos = command.integer(i + 1);
    if (!command.quoted(i) || command.string(i)->empty() || !in_range(qos, 0, 2)) return reply->error();
    topics.emplace_back(*command.string(i), static_cast<int>(*qos));
  }
  if (!in_range(msgid, 1, 65535) || topics.empty() || command.count() % 2 != 0 ||
      !client->mqtt->subscribe(static_cast<int>(*msgid), topics)) {
    reply->error();
    return;
  }
  reply->ok();
}

void Ec200uPersonality::qmtuns(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  Client* client = client_arg(command, reply);
  if (client == nullptr) return;
  const auto msgid = command.integer(1);
  std::vector<std::string> topics;
  for (std::size_t i = 2; i < command.count(); ++i) {
    if (!command.quoted(i) || command.string(i)->empty()) return reply->error();
    topics.push_back(*command.string(i));
  }
  if (!in_range(msgid, 1, 65535) || topics.empty() || !client->mqtt ||
      !client->mqtt->unsubscribe(static_cast<int>(*msgid), topics)) {
    reply->error();
    return;
  }
  reply->ok();
}

void Ec200uPersonality::publish(int idx, int msgid, int qos, bool retain, const std::string& topic,
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

void Ec200uPersonality::qmtpubex(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
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
      !in_range(length, 0, static_cast<long>(kMaxPublishBytes)) || !client->mqtt ||
      client->mqtt->state() != SimMqttClient::State::kConnected) {
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
  reply->prompt(static_cast<std::size_t>(*length),
                [this, idx, msgid = static_cast<int>(*msgid), qos = static_cast<int>(*qos),
                 retain = *retain == 1, topic, reply](std::string payload) {
                  publish(idx, msgid, qos, retain, topic, std::move(payload), reply, "+QMTPUBEX");
                });
}

void Ec200uPersonality::qmtpub(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
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

std::string Ec200uPersonality::recv_line(int idx, const MqttMessage& message) const {
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

void Ec200uPersonality::deliver(int idx, MqttMessage message) {
  Client& client = clients_[idx];
  if (client.recv_mode == 0) {
    server_.urc(recv_line(idx, message));
    return;
  }
  client.backlog.push_back(std::move(message));
  fill_slots(idx);
}

void Ec200uPersonality::fill_slots(int idx) {
  Client& client = clients_[idx];
  for (std::size_t slot = 0; slot < kReceiveSlots && !client.backlog.empty(); ++slot) {
    if (client.slots[slot]) continue;
    client.slots[slot] = std::move(client.backlog.front());
    client.backlog.pop_front();
    server_.urc(fmt::format("+QMTRECV: {},{}", idx, slot));  // buffered: read it with AT+QMTRECV
  }
}

void Ec200uPersonality::qmtrecv(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
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
      reply->error();
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

void Ec200uPersonality::power_cycle() {
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
}

std::string Ec200uPersonality::drop_mqtt_session(int idx, int code) {
  if (idx < 0 || idx >= kClients) return "client index must be 0-5";
  Client& client = clients_[idx];
  if (!client.mqtt || !client.mqtt->open_or_connected()) return fmt::format("client {} is not open", idx);
  close_client(idx);
  server_.urc(fmt::format("+QMTSTAT: {},{}", idx, code));
  return {};
}

void Ec200uPersonality::arm_ping_watch(int idx) {
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

void Ec200uPersonality::network_changed() {
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

std::string Ec200uPersonality::fail_next(const std::string& command, int code) {
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

Personality::MqttFigures Ec200uPersonality::mqtt_figures() const {
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
