// The seam between the generic MQTT session and one module family (DESIGN.md, "The dialect
// seam"). The session owns the states, the recovery ladder, backoff, timers and the publish window
// and writes no AT; a Dialect gives it, per stage, the commands to send as data (a Script: each
// command with the check that reads its answer), decodes the family's URCs into typed events, and
// says what the module can carry. Zephyr's modem_cellular.c runs one state machine over per-vendor
// scripts the same way; ModemManager splits plugin and vendor code alike.
//
// A Dialect is const and keeps no state of its own: what reading a session's URCs needs to
// remember lives in the DialectLink it installs for that session.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modem/at/channel.hpp"
#include "modem/gpp/gpp.hpp"
#include "modem/session/module_info.hpp"
#include "modem/session/session_config.hpp"
#include "modem/session/types.hpp"

namespace modem::session {

// Why a step of a bring-up or a recovery failed: typed, so the state machine decides from the kind
// and the module's code, never from words.
struct Failure {
  enum class Kind {
    kNoAnswer,        // no final result in time, or the command was aborted
    kRejected,        // ERROR, +CME ERROR or an answer that says no
    kUnreadable,      // an answer that cannot be understood
    kSimMissing,      // not inserted, or a SIM failure
    kSimLocked,       // it wants a PIN or a PUK
    kSimNotReady,     // anything else +CPIN says
    kPdpFailed,       // the data connection did not come up
    kOpenFailed,      // the connection to the broker did not open: `code` is the module's result
    kConnectRefused,  // the broker refused CONNECT: `code` is the CONNACK return code
    kConnectFailed,   // CONNECT was not acknowledged: `code` is the module's result
    kSubscribeFailed,
    kBadSetting,       // a setting the module can never take (a client id that {imei} made too long)
    kTlsFile,          // a certificate file or an SSL setting did not reach the module intact
    kClockUnset,       // the module's clock is not set, so it cannot check certificates
    kCertificateTime,  // a certificate is expired or not yet valid by the module's clock
    kTlsFailed,        // the TLS handshake failed (the module gives no reason: field-notes.md 3.3)
  };
  Kind kind = Kind::kRejected;
  std::optional<int> code;
  std::string text;           // what happened, in words a person can act on
  Rung rung = Rung::kReopen;  // the lowest rung that can fix it
  bool counts = true;         // false: a verdict that no step of the ladder can change (never climbs)
};

struct Step;
using Script = std::vector<Step>;  // empty: this family has no such stage

struct Step {
  at::Command command;
  // nullopt: the step succeeded. It may record what the answer says in `info`.
  std::function<std::optional<Failure>(const at::Result&, ModuleInfo& info)> check;
  // After a successful check: the steps that run next, decided from what the answers so far said
  // (which files the module already has, whether its clock is set). Empty: none.
  std::function<Script(ModuleInfo& info)> then{};
};

struct Capabilities {
  std::size_t max_payload = 0;                   // bytes one publish can carry
  std::size_t max_topic = 0;                     // bytes of a topic the module takes
  std::size_t window = 1;                        // publishes in flight at once
  bool binary_payload = false;                   // any byte may be in a payload
  int clients = 1;                               // MQTT client indexes 0 .. clients-1
  bool buffered_receive = false;                 // messages can wait in the module until read
  int max_context_id = 16;                       // PDP context ids 1 .. max_context_id
  bool tls = false;                              // the module's client can do TLS
  std::size_t max_tls_file = 0;                  // bytes of one PEM file it takes (CA bundle, cert, key)
  std::vector<gpp::Registration> registrations;  // the registrations that carry data, in order
};

// The values a dialect checks before they may go into one of its commands.
enum class Setting {
  kApn,
  kApnUsername,
  kApnPassword,
  kHost,
  kClientId,
  kUsername,
  kPassword,
  kWillTopic,
  kWillMessage,
  kTopicFilter,
  kTopic,  // a topic to publish to
};
const char* to_string(Setting setting);  // "APN", "upstream host", ...

// The module reported that its MQTT connection closed, decoded: what the code means and which
// rung of the ladder it points to (the +QMTSTAT table of the Quectel AN, for instance).
struct SessionClosed {
  int code = 0;
  std::string meaning;
  Rung rung = Rung::kReopen;
  bool counts = true;
  bool recheck_link = false;  // registration and the data connection are queried before reopening
};

struct PublishRequest {
  int client = 0;
  int msgid = 0;  // 0 for QoS 0
  int qos = 0;
  bool retain = false;
  std::string topic;
  std::string payload;
};

// What a dialect's URC handlers tell the session.
struct DialectEvents {
  std::function<void()> module_booted;
  std::function<void(const SessionClosed&)> session_closed;  // for our client
  std::function<void()> data_lost;                           // for our data connection
  std::function<void(const InboundMessage&)> message;
  std::function<void(std::string_view why, std::string_view line)> message_refused;
  std::function<void(int slot)> message_waiting;  // buffered receive: read slot `slot`
  std::function<void(int msgid, std::optional<int> count)> publish_retransmitted;
  std::function<void(int msgid)> unexpected_publish_result;  // a result no publish waits for
  std::function<void(std::string_view line)> ping_failed;
  std::function<void(std::string_view note)> firmware_note;  // the firmware does not behave as documented
};

// What a dialect installed on the channel for one session: its URC handlers, and what reading the
// module's messages needs to remember. Destroying it removes the handlers.
class DialectLink {
 public:
  virtual ~DialectLink() = default;
  // The answer of a buffered read (Dialect::read_message): its messages become events too.
  virtual void take_read_answer(const at::Result& result) = 0;
};

class Dialect {
 public:
  virtual ~Dialect() = default;

  virtual std::string_view name() const = 0;    // the [modem] model value: "quectel-ec200u"
  virtual std::string_view family() const = 0;  // for people: "Quectel EC200x/EC600x/EG912Y"
  virtual const Capabilities& caps() const = 0;

  // Why `value` cannot go into this family's commands as `setting`, in words, or nullopt.
  virtual std::optional<std::string> check_setting(Setting setting, std::string_view value) const = 0;
  // Why a publish to `topic` with `payload_size` bytes can never be sent, or nullopt.
  virtual std::optional<std::string> check_publish(std::string_view topic,
                                                   std::size_t payload_size) const = 0;

  // The stages of a bring-up, as data. The V.250/27.007 ones every family shares (probe, ATI,
  // registration, CFUN) are the session's, from modem/gpp.
  virtual Script identify() const = 0;  // after ATI: IMEI, SIM, ICCID, IMSI into ModuleInfo
  virtual Script attach(const SessionConfig& config) const = 0;   // the data connection up
  virtual Script detach(const SessionConfig& config) const = 0;   // and down
  virtual Script cleanup(const SessionConfig& config) const = 0;  // what a previous life left open
  // TLS (config.tls.enabled): the module's clock valid for certificate checks, the files on the
  // module (uploaded only when changed), its SSL context set. Empty without TLS.
  virtual Script secure(const SessionConfig& config) const = 0;
  virtual Script configure(const SessionConfig& config) const = 0;
  virtual Script open(const SessionConfig& config) const = 0;
  // `client_id` is config.client_id with {imei} and {iccid} filled in.
  virtual Script connect(const SessionConfig& config, const std::string& client_id) const = 0;
  virtual Step subscribe(const SessionConfig& config, int msgid, const std::string& filter,
                         int qos) const = 0;
  virtual at::Command unsubscribe(const SessionConfig& config, int msgid,
                                  const std::vector<std::string>& filters) const = 0;
  virtual at::Command disconnect(const SessionConfig& config) const = 0;
  virtual Script health() const = 0;  // signal, operator, access technology into ModuleInfo
  // Asks the module whether our MQTT client is still connected (AT+QMTCONN? on Quectel): fails
  // when it is not. What the session asks when a close report may have been lost.
  virtual Step connection_alive(const SessionConfig& config) const = 0;

  // A publish: the command (whose completion is the outcome, not a progress notice), and what
  // its result says.
  virtual at::Command publish(const PublishRequest& request) const = 0;
  virtual PublishOutcome publish_outcome(const at::Result& result) const = 0;
  // Cancels the completions of the publishes still in flight (their session is gone).
  virtual void abandon_publishes(at::Channel& channel) const = 0;
  // A buffered read of slot `slot`; its answer goes to DialectLink::take_read_answer.
  virtual at::Command read_message(const SessionConfig& config, int slot) const = 0;

  virtual std::unique_ptr<DialectLink> install(at::Channel& channel, const SessionConfig& config,
                                               DialectEvents events) const = 0;
};

}  // namespace modem::session
