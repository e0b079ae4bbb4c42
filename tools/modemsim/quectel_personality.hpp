// The Quectel modules of the QMT dialect: the command set of the EC2x and EC200x MQTT application
// notes (seeds/001, seeds/002) and the field guide (seeds/000), with the behaviour the field notes
// report where it differs from the documents. Which module it is (EC200U, EC25, EC200S) is a row of
// the model table (quectel_models.hpp): where the documents differ, the row decides the answer.
// The shared V.250 and 3GPP commands are answered by the GppBasics it composes.
#pragma once

#include <array>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "file_store.hpp"
#include "gpp_basics.hpp"
#include "modem/transport/event_loop.hpp"
#include "module_clock.hpp"
#include "personality.hpp"
#include "quectel_models.hpp"
#include "sim_mqtt_client.hpp"
#include "ssl_context.hpp"
#include "world.hpp"

namespace modemsim {

class AtServer;

// How +QMTRECV carries a message when recv/mode's <msg_len_enable> is 1. Firmware differs
// (field-notes.md 2.1): the AN's "<topic>",<len>,"<payload>"; an EC200U build that puts the payload
// on the next line, "<topic>",<len> CR LF <payload>; and one that ignores <msg_len_enable> and
// writes "<topic>","<payload>" whatever was asked.
enum class RecvForm { kDocumented, kSplit, kNoLength };

struct QuectelSettings {
  const QuectelModel* model = nullptr;    // --model; nullptr: the first row (ec200u)
  std::string broker_host = "127.0.0.1";  // where every QMTOPEN really goes (--broker)
  int broker_port = 1883;
  modem::Duration rtt{};                       // --rtt-ms
  RecvForm recv_form = RecvForm::kDocumented;  // --recv-form
  bool network_time = false;                   // --network-time: the network sends its time (NITZ)
  std::function<void()> request_reboot;        // AT+CFUN=1,1
};

class QuectelPersonality final : public Personality {
 public:
  static constexpr int kClients = 6;                           // <client_idx> 0-5
  static constexpr std::size_t kMaxPublishBytes = 1500;        // AT+QMTPUBEX note 2
  static constexpr std::size_t kInFlightWindow = 5;            // AT+QMTPUBEX note 1
  static constexpr std::size_t kReceiveSlots = 5;              // AT+QMTRECV <store_status>
  static constexpr std::size_t kMaxUploadBytes = 1024 * 1024;  // AT+QFUPL: the largest file taken

  QuectelPersonality(modem::EventLoop& loop, AtServer& server, World& world, QuectelSettings settings);
  ~QuectelPersonality() override;

  std::string description() const override;
  std::vector<std::string> boot_urcs() const override;
  void handle(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) override;
  std::string redact(std::string_view command_line) const override;
  void power_cycle() override;
  std::string drop_mqtt_session(int client, int code) override;
  void network_changed() override;
  std::string fail_next(const std::string& command, int code) override;
  MqttFigures mqtt_figures() const override;
  ServiceFigures service_figures() const override;

 private:
  // What AT+QMTCFG configures for one <client_idx>, and the client itself.
  struct Client {
    int version = 4;  // 3 = MQTT 3.1, 4 = MQTT 3.1.1
    int pdp_cid = 1;
    int keepalive_s = 120;
    bool clean_session = true;
    SimMqttTimeouts timeouts;
    bool timeout_notice = false;
    std::optional<MqttWill> will;
    int ssl_enable = 0;
    int ssl_context = 0;
    int recv_mode = 0;          // 1: messages are buffered and read with AT+QMTRECV
    int recv_length = 0;        // 1: +QMTRECV carries <payload_len>
    int ping_interval_s = 5;    // "qmtping": +QMTSTAT this long after +QMTPING
    bool echo_payload = false;  // "view/mode" 1: the data after ">" is echoed whatever ATE says
    std::string host;
    int port = 0;
    std::unique_ptr<SimMqttClient> mqtt;
    std::array<std::optional<MqttMessage>, kReceiveSlots> slots;
    std::deque<MqttMessage> backlog;                 // arrived while every slot was full
    std::map<int, std::string> result_urc_by_msgid;  // "+QMTPUBEX" or "+QMTPUB"
    std::uint64_t ping_generation = 0;
  };

  using Handler = void (QuectelPersonality::*)(const AtCommandLine&, const std::shared_ptr<Reply>&);
  static const std::map<std::string, Handler>& handlers();

  // Quectel's own identity, SIM and network commands (the 3GPP ones are in basics_)
  void qgmr(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void iccid(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qcsq(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qnwinfo(const AtCommandLine&, const std::shared_ptr<Reply>&);
  // PDP contexts (Quectel TCP/IP AT commands)
  void qicsgp(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qiact(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qideact(const AtCommandLine&, const std::shared_ptr<Reply>&);
  // Files (quectel_files.cpp)
  void qflst(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qfupl(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qfdel(const AtCommandLine&, const std::shared_ptr<Reply>&);
  // SSL contexts (quectel_qsslcfg.cpp)
  void qsslcfg(const AtCommandLine&, const std::shared_ptr<Reply>&);
  // Network time (quectel_time.cpp)
  void qlts(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qntp(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void follow_network_time();
  // MQTT
  void qmtcfg(const AtCommandLine&, const std::shared_ptr<Reply>&);
  // One AT+QMTCFG option (quectel_qmtcfg.cpp): a write, or a query when `query`. It finishes the reply.
  using OptionHandler = void (QuectelPersonality::*)(Client&, const AtCommandLine&, bool query,
                                                     const std::shared_ptr<Reply>&);
  static const std::map<std::string, OptionHandler, std::less<>>& option_handlers();
  void cfg_integer(const char* option, int& value, long lo, long hi, const AtCommandLine&, bool query,
                   const std::shared_ptr<Reply>&);
  void cfg_version(Client&, const AtCommandLine&, bool, const std::shared_ptr<Reply>&);
  void cfg_pdp_cid(Client&, const AtCommandLine&, bool, const std::shared_ptr<Reply>&);
  void cfg_keepalive(Client&, const AtCommandLine&, bool, const std::shared_ptr<Reply>&);
  void cfg_ping_interval(Client&, const AtCommandLine&, bool, const std::shared_ptr<Reply>&);
  void cfg_session(Client&, const AtCommandLine&, bool, const std::shared_ptr<Reply>&);
  void cfg_timeout(Client&, const AtCommandLine&, bool, const std::shared_ptr<Reply>&);
  void cfg_will(Client&, const AtCommandLine&, bool, const std::shared_ptr<Reply>&);
  void cfg_willex(Client&, const AtCommandLine&, bool, const std::shared_ptr<Reply>&);
  void cfg_ssl(Client&, const AtCommandLine&, bool, const std::shared_ptr<Reply>&);
  void cfg_recv_mode(Client&, const AtCommandLine&, bool, const std::shared_ptr<Reply>&);
  void cfg_send_mode(Client&, const AtCommandLine&, bool, const std::shared_ptr<Reply>&);
  void cfg_data_format(Client&, const AtCommandLine&, bool, const std::shared_ptr<Reply>&);
  void cfg_view_mode(Client&, const AtCommandLine&, bool, const std::shared_ptr<Reply>&);
  void cfg_accepted(Client&, const AtCommandLine&, bool, const std::shared_ptr<Reply>&);
  bool will_fits(const std::string& topic, std::size_t message_bytes) const;
  void qmtopen(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qmtclose(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qmtconn(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qmtdisc(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qmtsub(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qmtuns(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qmtpubex(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qmtpub(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void qmtrecv(const AtCommandLine&, const std::shared_ptr<Reply>&);

  Client* client_arg(const AtCommandLine& command, const std::shared_ptr<Reply>& reply);
  // Refusals in the model's form: a bad AT+QMTCFG option or value, a bad argument of another
  // command. A refusal for the module's state is always a bare ERROR.
  void bad_option(const std::shared_ptr<Reply>& reply) const;
  void bad_argument(const std::shared_ptr<Reply>& reply) const;
  void publish(int idx, int msgid, int qos, bool retain, const std::string& topic, std::string payload,
               const std::shared_ptr<Reply>& reply, const char* urc_name);
  void deliver(int idx, MqttMessage message);
  std::string recv_line(int idx, const MqttMessage& message) const;
  void fill_slots(int idx);
  void close_client(int idx);
  void on_pdp_deactivated(int cid);
  void arm_ping_watch(int idx);
  void make_client(int idx);
  std::optional<int> take_failure(const std::string& command);
  // The TLS settings AT+QMTOPEN uses for `client` to `host`, or nullopt (logged) when its SSL
  // context cannot make a connection.
  std::optional<TlsClientConfig> tls_for(int idx, const std::string& host) const;

  modem::EventLoop& loop_;
  AtServer& server_;
  World& world_;
  QuectelSettings settings_;
  const QuectelModel& model_;
  ModuleClock clock_;  // before basics_, which answers AT+CCLK with it
  GppBasics basics_;   // AT, ATI, the 3GPP commands and their URCs
  FileStore files_;
  std::array<SslContext, SslContext::kContexts> ssl_contexts_;
  bool was_registered_ = false;      // for NITZ: the clock is set when the module (re)registers
  bool network_time_known_ = false;  // NITZ came in this life (AT+QLTS has something to say)
  std::uint64_t life_ = 0;           // bumped at power-off: timers of an earlier life do nothing
  ServiceFigures service_figures_;
  std::array<Client, kClients> clients_;
  std::map<std::string, int> next_failures_;  // command name -> result code for its next use
  std::size_t max_in_flight_ = 0;
  std::uint64_t messages_up_before_ = 0;  // figures of clients that no longer exist
  std::uint64_t messages_down_before_ = 0;
};

}  // namespace modemsim
