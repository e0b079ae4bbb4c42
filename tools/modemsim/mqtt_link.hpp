// One MQTT client of the simulated module (a `client_idx` 0..5 of AT+QMTOPEN), talking to a real
// broker through libmosquitto driven from the one event loop (DESIGN.md: mosquitto_socket,
// loop_read, loop_write, loop_misc, want_write; never a libmosquitto thread, never a blocking call).
//
// The module separates opening the TCP connection (AT+QMTOPEN) from sending MQTT CONNECT
// (AT+QMTCONN), and libmosquitto cannot: so open() makes a plain TCP connection that stands for
// the module's "network", and connect() closes it and lets libmosquitto connect afresh. A broker
// that closes either connection is reported as lost, never silently re-established. With TLS
// (AT+QMTCFG="ssl"), open() also does the TLS handshake, checked as the module's SSL context says,
// and connect() ends that TLS connection with close_notify and lets libmosquitto make its own
// with the same OpenSSL context (MOSQ_OPT_SSL_CTX), so both are checked alike.
//
// Callbacks are never invoked from inside libmosquitto nor from inside a call the owner makes on
// the link: libmosquitto's callbacks only queue events, and the queue is delivered from dispatch()
// (the link asks the loop to dispatch it at once while the queue is not empty). So a callback may
// call anything on the link (publish, disconnect, drop, set_paused, open again) and may destroy it;
// an owner that destroys it must also remove it from the EventLoop (which then never dispatches it
// again). When a callback drops, disconnects or reopens the link, events still queued from before
// are discarded. state() is updated as soon as libmosquitto reports something, so it can run ahead
// of the events not yet delivered.
#pragma once

#include <sys/socket.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "modem/transport/event_loop.hpp"
#include "tls_handshake.hpp"

struct mosquitto;
struct mosquitto_message;

namespace modemsim {

struct MqttWill {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

struct MqttConnectOptions {
  // Empty: libmosquitto makes one up (only a clean session may go without one).
  std::string client_id;
  std::optional<std::string> username, password;
  // 0 disables keepalive. libmosquitto refuses 1..4 s, which MQTT allows: they are raised to 5.
  int keepalive_s = 120;
  bool clean_session = true;
  int protocol_version = 4;  // 3 = MQTT 3.1, 4 = MQTT 3.1.1 (MOSQ_OPT_PROTOCOL_VERSION)
  std::optional<MqttWill> will;
};

struct MqttMessage {
  int mid;
  std::string topic;
  std::string payload;  // byte-exact, may hold any byte
  int qos;
  bool retain;
};

struct MqttLinkEvents {
  std::function<void(bool ok)> on_opened;  // result of open(), its TLS handshake included
  // open()'s TCP connection was made but its TLS handshake failed, why in one line; instead of
  // on_opened (on_opened(false) means the TCP connection itself failed).
  std::function<void(std::string why)> on_tls_failed;
  std::function<void(int connack_code)> on_connack;  // 0 accepted, 1..5 refused (MQTT 3.1.1 codes)
  // Granted QoS in the order of the topics given to subscribe(); 128 (0x80) for a refused topic.
  std::function<void(int mid, std::vector<int> granted_qos)> on_suback;
  std::function<void(int mid)> on_unsuback;
  std::function<void(int mid)> on_published;  // QoS0: written; QoS1: PUBACK; QoS2: PUBCOMP
  std::function<void(MqttMessage)> on_message;
  // The broker closed or reset the TCP connection, the keepalive expired, or connect() failed
  // before a CONNACK. Not reported after drop() or disconnect(), nor after a refused CONNACK.
  std::function<void()> on_lost;
};

class MqttLink final : public modem::EventSource {
 public:
  // `broker_host` is a numeric address or a name in /etc/hosts: resolving it is the one call
  // that could block, and a simulator only ever points at a broker it knows.
  MqttLink(std::string broker_host, int broker_port, MqttLinkEvents events);
  ~MqttLink() override;  // frees everything, no DISCONNECT sent
  MqttLink(const MqttLink&) = delete;
  MqttLink& operator=(const MqttLink&) = delete;

  // Starts the TCP connection, and with `tls` its TLS handshake; the result comes as on_opened (or
  // on_tls_failed). Returns false, doing nothing, unless the link is kIdle or kClosed.
  bool open(std::optional<TlsClientConfig> tls = std::nullopt);
  // Closes the open() connection and sends MQTT CONNECT on a new one; the result comes as
  // on_connack (or on_lost). Returns false, doing nothing, unless the link is kOpen and the
  // options are in range (protocol_version 3 or 4, keepalive_s 0..65535).
  bool connect(const MqttConnectOptions& options);
  // These return libmosquitto's message id, the one the matching event carries, or nullopt when the
  // link is not kConnected or libmosquitto refuses the arguments (a bad topic filter, QoS > 2).
  std::optional<int> subscribe(const std::vector<std::pair<std::string, int>>& topics);
  std::optional<int> unsubscribe(const std::vector<std::string>& topics);
  std::optional<int> publish(const std::string& topic, std::string_view payload, int qos, bool retain);
  void disconnect();  // clean: MQTT DISCONNECT then close (no will)
  void drop();        // abrupt: close TCP without DISCONNECT (the broker then publishes the will)
  // "Network down": while paused the link does no I/O at all (no fd, no keepalive) and what the
  // owner asks for waits in libmosquitto's queue; it resumes where it was. After a pause longer
  // than 1.5 x keepalive the broker has closed the connection, which resuming reports as on_lost.
  void set_paused(bool paused);
  bool paused() const { return paused_; }

  enum class State { kIdle, kOpening, kOpen, kConnecting, kConnected, kClosed };
  State state() const { return state_; }

  // EventSource. The deadline is for loop_misc (PINGREQ, and giving up when no PINGRESP comes):
  // about once a second while connecting or connected, at once while events wait for delivery.
  // It lives on std::chrono::steady_clock, as libmosquitto's own keepalive timing does, so run
  // the link in a loop on modem::SteadyClock.
  int poll_fd() const override;
  short poll_events() const override;
  std::optional<modem::TimePoint> next_deadline() const override;
  void dispatch(short revents) override;

 private:
  // A queued event: calls the matching member of MqttLinkEvents, if the owner set it.
  using Event = std::function<void(const MqttLinkEvents&)>;
  // One subscribe() may need several SUBSCRIBE packets (mosquitto_subscribe_multiple takes one
  // QoS for all its filters); their SUBACKs are gathered back into one on_suback, in the caller's
  // topic order.
  struct PendingSuback {
    int reported_mid;
    std::vector<int> granted;
    std::map<int, std::vector<std::size_t>> parts;  // packet mid -> indexes into `granted`
  };

  struct Candidate {
    sockaddr_storage address;
    socklen_t length;
  };

  static void handle_connect(mosquitto* m, void* self, int rc);
  static void handle_disconnect(mosquitto* m, void* self, int rc);
  static void handle_publish(mosquitto* m, void* self, int mid);
  static void handle_subscribe(mosquitto* m, void* self, int mid, int count, const int* granted);
  static void handle_unsubscribe(mosquitto* m, void* self, int mid);
  static void handle_message(mosquitto* m, void* self, const mosquitto_message* message);

  void try_next_candidate();
  void finish_open();
  void step_handshake();
  void watch_open_socket();
  void pump_mosquitto(short revents);
  void close_everything();
  void release_mosquitto_if_closed();
  void queue(Event event);
  void deliver_queued();
  bool mosquitto_active() const;

  std::string host_;
  int port_;
  std::shared_ptr<const MqttLinkEvents> events_;  // shared so a callback that destroys us survives
  std::shared_ptr<char> alive_;                   // expires with the link: tells deliver_queued to stop
  State state_ = State::kIdle;
  bool paused_ = false;
  std::vector<Candidate> candidates_;        // addresses open() has yet to try
  std::string opened_host_;                  // the numeric address open() reached
  int tcp_fd_ = -1;                          // the open() connection, while kOpening or kOpen
  std::optional<TlsClientConfig> tls_;       // open()'s TLS settings, for connect() too
  std::unique_ptr<TlsHandshake> handshake_;  // open()'s TLS connection over tcp_fd_
  mosquitto* mosq_ = nullptr;                // the MQTT connection, from connect() until it is closed
  bool disconnect_pending_ = false;          // disconnect() asked for; flushing the DISCONNECT packet
  modem::TimePoint next_misc_{};
  std::vector<PendingSuback> subacks_;
  std::deque<Event> queued_;
};

const char* to_string(MqttLink::State state);

}  // namespace modemsim
