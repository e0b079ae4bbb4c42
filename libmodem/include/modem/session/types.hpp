// The words the MQTT session and its users share: its states and events, the rungs of the
// recovery ladder, messages in and out, and what it reports. No AT, no module family.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace modem::session {

enum class State {
  kStopped,          // not started, or the device is gone
  kProbing,          // AT until it answers, then echo off and numeric errors
  kIdentifying,      // ATI, then the dialect's identity: IMEI, SIM, ICCID, IMSI
  kSimError,         // no SIM, or it wants a PIN: asked again after each backoff
  kRegistering,      // registration URCs on, then waiting to be registered
  kActivatingPdp,    // the data connection (PDP context, data call)
  kCleaningUp,       // closing whatever MQTT connection a previous life left open
  kSecuring,         // TLS: the module's clock, the certificate files, its SSL context
  kConfiguringMqtt,  // the module's MQTT settings, every time: it forgets them at power-down
  kOpening,          // the network connection to the broker
  kConnecting,       // MQTT CONNECT
  kSubscribing,      // a SUBSCRIBE for every filter
  kReady,            // connected: publishes go up, messages come down
  kWaiting,          // backing off before the next recovery attempt
  kCyclingPdp,       // the data connection down before activating it again
  kCyclingRadio,     // AT+CFUN=0 then AT+CFUN=1
  kRebooting,        // AT+CFUN=1,1, waiting for the module's boot
  kStopping,         // a clean DISCONNECT on the way out
};
const char* to_string(State state);

enum class Event {
  kStart,
  kStop,
  kStepsDone,       // every command of the state's script succeeded
  kStepFailed,      // one failed (the Failure says why)
  kTimer,           // the state's deadline: a backoff, the registration or boot timeout
  kModuleBooted,    // the module announced a (re)start
  kRegistered,      // a registration URC says registered
  kPdpDeactivated,  // the network took the data connection away
  kMqttClosed,      // the module reported the MQTT connection closed
  kChannelStuck,    // the module did not answer several AT commands in a row
  kChannelClosed,   // the device went away
};
const char* to_string(Event event);

// The rungs of the recovery ladder, lowest first.
enum class Rung { kReopen, kCyclePdp, kCycleRadio, kReboot };
const char* to_string(Rung rung);

struct InboundMessage {
  std::string topic;
  std::string payload;  // byte-exact
  int msgid = 0;        // the broker's packet id; 0 for QoS 0
};

enum class PublishStatus {
  kDelivered,  // the module reported the broker's acknowledgement (QoS 0: the send)
  kFailed,     // no acknowledgement: the module gave up, the session was lost, the device went away
};
struct PublishOutcome {
  PublishStatus status = PublishStatus::kFailed;
  int retransmissions = 0;  // retransmission notices seen before the outcome
  std::string reason;       // for kFailed
};
using PublishCallback = std::function<void(const PublishOutcome&)>;

enum class Admission {
  kAccepted,  // the callback will run exactly once
  kBusy,      // not Ready, or the in-flight window is full: offer it again later
  kRejected,  // it can never be sent (a topic the module cannot take, a payload over its limit):
              // `reason` says why; no callback
};

struct SessionStats {
  std::uint64_t publishes_accepted = 0;
  std::uint64_t publishes_delivered = 0;
  std::uint64_t publishes_failed = 0;
  std::uint64_t publishes_rejected = 0;
  std::uint64_t retransmissions = 0;
  std::uint64_t messages_received = 0;
  // Received messages not passed on: a line that reads as more than one message, bytes that could
  // not be framed with certainty, an unreadable line, a topic no broker should deliver.
  std::uint64_t messages_refused = 0;
  std::uint64_t recoveries = 0;  // recovery attempts started
  std::uint64_t sessions = 0;    // times Ready was reached
};

struct SessionObserver {
  std::function<void(State)> state_changed;
  std::function<void(const InboundMessage&)> message;
  // A message from the broker was refused (SessionStats::messages_refused says which kinds).
  std::function<void()> message_refused;
  std::function<void()> info_changed;
  std::function<void(const std::string& why)> device_lost;
};

}  // namespace modem::session
