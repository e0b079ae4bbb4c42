#include "support/fake_dialect.hpp"

#include <fmt/format.h>

#include <charconv>

#include "modem/gpp/gpp.hpp"
#include "modem/session/steps.hpp"

namespace test_support {

namespace {

namespace at = modem::at;
namespace ms = modem::session;
using Kind = ms::Failure::Kind;
using ms::Failure;
using ms::ModuleInfo;
using ms::Rung;
using ms::Script;
using ms::SessionConfig;
using ms::Step;

// The integers after "<prefix> ", comma-separated.
std::vector<int> numbers_after(std::string_view line, std::string_view prefix) {
  std::vector<int> out;
  if (!line.starts_with(prefix)) return out;
  line.remove_prefix(prefix.size());
  while (!line.empty()) {
    while (!line.empty() && (line.front() == ' ' || line.front() == ','))
      line.remove_prefix(1);
    int value = 0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), value);
    if (ec != std::errc{}) break;
    out.push_back(value);
    line.remove_prefix(static_cast<std::size_t>(end - line.data()));
  }
  return out;
}

at::Command with_completion(std::string text, std::string prefix) {
  at::Command c;
  c.text = std::move(text);
  c.completion = at::Completion{std::move(prefix), nullptr, std::chrono::seconds(30)};
  return c;
}

at::Command plain(std::string text) {
  at::Command c;
  c.text = std::move(text);
  return c;
}

class FakeLink final : public ms::DialectLink {
 public:
  FakeLink(at::Channel& channel, ms::DialectEvents events) : channel_(channel), events_(std::move(events)) {
    handlers_.push_back(channel_.urcs().add("RDY", [this](std::string_view) { events_.module_booted(); }));
    handlers_.push_back(
        channel_.urcs().add("+FXDATALOST", [this](std::string_view) { events_.data_lost(); }));
    handlers_.push_back(channel_.urcs().add("+FXCLOSED:", [this](std::string_view line) { closed(line); }));
    handlers_.push_back(channel_.urcs().add("+FXMSG:", [this](std::string_view line) { message(line); }));
  }
  ~FakeLink() override {
    for (auto id : handlers_)
      channel_.urcs().remove(id);
  }
  void take_read_answer(const at::Result&) override {}

 private:
  void closed(std::string_view line) {
    const auto n = numbers_after(line, "+FXCLOSED:");
    ms::SessionClosed c;
    c.code = n.empty() ? -1 : n.front();
    switch (c.code) {
      case 1:
        c.meaning = "the broker closed the connection";
        break;
      case 2:
        c.meaning = "the network dropped the connection";
        c.rung = Rung::kCyclePdp;
        c.recheck_link = true;
        break;
      case 3:
        c.meaning = "the broker shut this client out";
        c.counts = false;
        break;
      default:
        c.meaning = "an unknown reason";
    }
    events_.session_closed(c);
  }

  void message(std::string_view line) {
    // +FXMSG: "<topic>","<payload>": the tests send neither quotes nor commas inside.
    const auto first = line.find('"');
    const auto second = line.find('"', first + 1);
    const auto third = line.find('"', second + 1);
    const auto fourth = line.rfind('"');
    if (first == std::string_view::npos || third == std::string_view::npos || fourth <= third) {
      events_.message_refused("unreadable", line);
      return;
    }
    ms::InboundMessage m;
    m.topic = std::string(line.substr(first + 1, second - first - 1));
    m.payload = std::string(line.substr(third + 1, fourth - third - 1));
    events_.message(m);
  }

  at::Channel& channel_;
  ms::DialectEvents events_;
  std::vector<at::UrcRegistry::HandlerId> handlers_;
};

class FakeDialect final : public ms::Dialect {
 public:
  FakeDialect() {
    caps_.max_payload = 100;
    caps_.max_topic = 64;
    caps_.window = 2;
    caps_.binary_payload = true;
    caps_.clients = 1;
    caps_.max_context_id = 4;
    caps_.registrations = {modem::gpp::Registration::kEps};
  }

  std::string_view name() const override { return "fake"; }
  std::string_view family() const override { return "Fake family (tests)"; }
  const ms::Capabilities& caps() const override { return caps_; }

  std::optional<std::string> check_setting(ms::Setting, std::string_view value) const override {
    if (value.find('"') != std::string_view::npos) return "contains a double quote";
    return std::nullopt;
  }
  std::optional<std::string> check_publish(std::string_view topic, std::size_t payload_size) const override {
    if (topic.size() > caps_.max_topic) return "the topic is too long";
    if (payload_size > caps_.max_payload) return "the payload is too large";
    return std::nullopt;
  }

  Script identify() const override { return {ms::imei_step(), ms::sim_step(), ms::imsi_step()}; }
  Script attach(const SessionConfig& c) const override {
    return {{plain(fmt::format("AT+FXATTACH={}", c.pdp.context_id)),
             [](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
               if (r.ok()) return std::nullopt;
               return ms::failed(r, "AT+FXATTACH", Kind::kPdpFailed);
             }}};
  }
  Script detach(const SessionConfig& c) const override {
    return {ms::optional_step(plain(fmt::format("AT+FXDETACH={}", c.pdp.context_id)))};
  }
  Script cleanup(const SessionConfig&) const override { return {ms::optional_step(plain("AT+FXCLEAN"))}; }
  Script secure(const SessionConfig&) const override { return {}; }
  Script configure(const SessionConfig& c) const override {
    return {ms::required(plain(fmt::format("AT+FXCFG={}", c.keepalive_s)))};
  }
  Script open(const SessionConfig& c) const override {
    return {{with_completion(fmt::format("AT+FXOPEN=\"{}\",{}", c.host, c.port), "+FXOPEN:"),
             [](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
               if (!r.ok() || !r.completion) return ms::failed(r, "AT+FXOPEN");
               const auto n = numbers_after(*r.completion, "+FXOPEN:");
               if (n.empty()) return ms::failure(Kind::kUnreadable, "unreadable " + *r.completion);
               if (n[0] == 0) return std::nullopt;
               const Rung rung = n[0] == 1 ? Rung::kCyclePdp : Rung::kReopen;
               return ms::failure(Kind::kOpenFailed, fmt::format("open failed ({})", n[0]), rung, true, n[0]);
             }}};
  }
  Script connect(const SessionConfig&, const std::string& client_id) const override {
    return {
        {with_completion(fmt::format("AT+FXCONN=\"{}\"", client_id), "+FXCONN:"),
         [](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
           if (!r.ok() || !r.completion) return ms::failed(r, "AT+FXCONN");
           const auto n = numbers_after(*r.completion, "+FXCONN:");
           if (n.size() < 2) return ms::failure(Kind::kUnreadable, "unreadable " + *r.completion);
           if (n[0] != 0)
             return ms::failure(Kind::kConnectFailed, "CONNECT not acknowledged", Rung::kReopen, true, n[0]);
           if (n[1] != 0) {
             return ms::failure(Kind::kConnectRefused, fmt::format("the broker refused (CONNACK {})", n[1]),
                                Rung::kReopen, false, n[1]);
           }
           return std::nullopt;
         }}};
  }
  Step subscribe(const SessionConfig&, int msgid, const std::string& filter, int qos) const override {
    return {with_completion(fmt::format("AT+FXSUB={},\"{}\",{}", msgid, filter, qos), "+FXSUB:"),
            [filter](const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
              if (!r.ok() || !r.completion) return ms::failed(r, "AT+FXSUB", Kind::kSubscribeFailed);
              const auto n = numbers_after(*r.completion, "+FXSUB:");
              if (n.size() >= 2 && n[1] == 128) info.refused_filters.push_back(filter);
              return std::nullopt;
            }};
  }
  at::Command unsubscribe(const SessionConfig&, int msgid,
                          const std::vector<std::string>& filters) const override {
    return plain(fmt::format("AT+FXUNSUB={},\"{}\"", msgid, filters.empty() ? "" : filters.front()));
  }
  at::Command disconnect(const SessionConfig&) const override { return plain("AT+FXDISC"); }
  // AT+FXSTATE?: "+FXSTATE: 0" when the module's client is gone; any other answer means alive.
  Step connection_alive(const SessionConfig&) const override {
    at::Command query = plain("AT+FXSTATE?");
    query.response_prefixes = {"+FXSTATE:"};
    return {std::move(query), [](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
              if (ms::first_line(r) != "+FXSTATE: 0") return std::nullopt;
              return ms::failure(Failure::Kind::kConnectFailed, "the fake module's client is gone");
            }};
  }

  Script health() const override {
    return {
        {modem::gpp::signal_quality(), [](const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
           info.rssi_dbm = modem::gpp::parse_csq_dbm(ms::first_line(r));
           return std::nullopt;
         }}};
  }

  at::Command publish(const ms::PublishRequest& p) const override {
    at::Command c = with_completion(fmt::format("AT+FXPUB={},{},{},\"{}\",{}", p.msgid, p.qos,
                                                p.retain ? 1 : 0, p.topic, p.payload.size()),
                                    "+FXPUB:");
    c.payload = p.payload;
    c.completion->matches = [msgid = p.msgid](std::string_view line) {
      const auto n = numbers_after(line, "+FXPUB:");
      return !n.empty() && n[0] == msgid;
    };
    return c;
  }
  ms::PublishOutcome publish_outcome(const at::Result& r) const override {
    ms::PublishOutcome outcome;
    const auto n = r.completion ? numbers_after(*r.completion, "+FXPUB:") : std::vector<int>{};
    if (r.ok() && n.size() >= 2 && n[1] == 0) {
      outcome.status = ms::PublishStatus::kDelivered;
    } else {
      outcome.reason = r.ok() ? "the module gave up" : at::describe(r);
    }
    return outcome;
  }
  void abandon_publishes(at::Channel& channel) const override { channel.cancel_completions("+FXPUB:"); }
  at::Command read_message(const SessionConfig&, int slot) const override {
    return plain(fmt::format("AT+FXREAD={}", slot));
  }
  std::unique_ptr<ms::DialectLink> install(at::Channel& channel, const SessionConfig&,
                                           ms::DialectEvents events) const override {
    return std::make_unique<FakeLink>(channel, std::move(events));
  }

 private:
  ms::Capabilities caps_;
};

}  // namespace

std::unique_ptr<ms::Dialect> make_fake_dialect() {
  return std::make_unique<FakeDialect>();
}

void answer_like_fake_family(FakeModule& module) {
  module.clear();
  const auto ok = [](std::string_view lines = {}) { return ok_reply(lines); };
  // The V.250 / 27.007 basics, as any module answers them.
  module.on("AT", ok());
  module.on("ATI", ok("Fakeco\r\nFX100\r\nRevision: FX100R01"));
  module.on("AT+CGSN", ok("356000000000001"));
  module.on("AT+CPIN?", ok("+CPIN: READY"));
  module.on("AT+CIMI", ok("001010123456789"));
  module.on("AT+CEREG?", ok("+CEREG: 2,1,\"00AA\",\"00000B01\",7"));
  module.on("AT+CSQ", ok("+CSQ: 20,0"));
  // The fake family's MQTT.
  module.on("AT+FXATTACH=", ok());
  module.on("AT+FXDETACH=", ok());
  module.on("AT+FXCLEAN", "\r\nERROR\r\n");  // nothing left open
  module.on("AT+FXCFG=", ok());
  module.on("AT+FXOPEN=", ok() + "\r\n+FXOPEN: 0\r\n");
  module.on("AT+FXCONN=", ok() + "\r\n+FXCONN: 0,0\r\n");
  module.on("AT+FXSUB=", [ok](const std::string& c) {
    const auto f = command_fields(c);
    return ok() + fmt::format("\r\n+FXSUB: {},{}\r\n", field_number(f, 0), field_number(f, 2));
  });
  module.on("AT+FXUNSUB=", ok());
  module.on("AT+FXDISC", ok());
  module.on_data(
      "AT+FXPUB=",
      {[](const std::string& c) { return static_cast<std::size_t>(field_number(command_fields(c), 4)); },
       [](const std::string& c) { return fmt::format("+FXPUB: {},0", field_number(command_fields(c), 0)); }});
}

}  // namespace test_support
