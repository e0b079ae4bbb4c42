// One MQTT client of the module (a <client_idx>), as the module reports it: the real exchange
// with the broker happens in MqttLink; this adds what the module adds on top. Every
// server-acknowledged result is held back until one network round trip (--rtt-ms) after its
// request was sent, QoS 1/2 publishes count against the in-flight window, an unacknowledged
// publish is reported as retransmitted every <pkt_timeout> and failed after <retry_times>, and
// while the network is down nothing reaches the broker.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "modem/clock.hpp"
#include "modem/transport/event_loop.hpp"
#include "mqtt_link.hpp"

namespace modemsim {

struct SimMqttTimeouts {
  int packet_timeout_s = 5;  // AT+QMTCFG="timeout" <pkt_timeout>
  int retry_times = 3;       // <retry_times>
};

class SimMqttClient {
 public:
  enum class State { kClosed, kOpening, kOpen, kConnecting, kConnected };
  // How AT+QMTOPEN ended: the network connection (with TLS, its handshake too) made, the network
  // connection failed, or the TCP connection was made and its TLS handshake failed (`why` says
  // how, in one line).
  enum class OpenResult { kOpen, kNetworkFailed, kTlsFailed };

  struct Events {
    std::function<void(OpenResult result, const std::string& why)> opened;
    std::function<void(int connack_code)> connected;  // -1: no CONNACK (the link failed)
    std::function<void(int msgid, std::vector<int> granted)> subscribed;
    std::function<void(int msgid)> unsubscribed;
    // result 0 acknowledged (or sent, QoS 0), 1 retransmitted `count` times so far, 2 failed
    std::function<void(int msgid, int result, int count)> published;
    std::function<void(MqttMessage)> message;
    std::function<void()> lost;  // the broker closed or reset the connection
  };

  SimMqttClient(modem::EventLoop& loop, std::string broker_host, int broker_port, modem::Duration rtt,
                Events events);
  ~SimMqttClient();

  State state() const { return state_; }
  bool open_or_connected() const { return state_ != State::kClosed; }
  std::size_t in_flight() const { return in_flight_.size(); }

  // With `tls`, the network connection is a TLS one, checked as it says.
  void open(std::optional<TlsClientConfig> tls = std::nullopt);
  void connect(const MqttConnectOptions& options);
  bool subscribe(int msgid, const std::vector<std::pair<std::string, int>>& topics);
  bool unsubscribe(int msgid, const std::vector<std::string>& topics);
  bool publish(int msgid, const std::string& topic, std::string_view payload, int qos, bool retain,
               const SimMqttTimeouts& timeouts);
  // MQTT DISCONNECT and close: no will.
  void disconnect();
  // The link is gone without DISCONNECT (the broker publishes the will): network loss, a fault.
  void drop();
  void set_network_up(bool up);

  std::uint64_t messages_up() const { return messages_up_; }
  std::uint64_t messages_down() const { return messages_down_; }

 private:
  struct InFlight {
    int msgid;
    modem::TimePoint sent;
    SimMqttTimeouts timeouts;
    int retransmissions = 0;
    modem::EventLoop::TimerId timer = 0;
  };
  void reset_link();
  // Runs `action` one round trip after `sent`, unless the link changed in between.
  void after_round_trip(modem::TimePoint sent, std::function<void()> action);
  void arm_retransmission(int mid);
  void on_link_published(int mid);

  modem::EventLoop& loop_;
  std::string broker_host_;
  int broker_port_;
  modem::Duration rtt_;
  Events events_;
  std::unique_ptr<MqttLink> link_;
  State state_ = State::kClosed;
  bool network_up_ = true;
  std::uint64_t link_generation_ = 0;
  modem::TimePoint request_sent_{};
  std::map<int, InFlight> in_flight_;                                      // libmosquitto mid -> our publish
  std::map<int, std::pair<int, modem::TimePoint>> pending_subscriptions_;  // mid -> (msgid, sent)
  std::map<int, std::pair<int, modem::TimePoint>> pending_unsubscriptions_;
  std::uint64_t messages_up_ = 0;
  std::uint64_t messages_down_ = 0;
};

}  // namespace modemsim
