// The daemon's client of the local Mosquitto, driven through libmosquitto's external-loop calls
// (mosquitto_socket, loop_read, loop_write, loop_misc, want_write) from the one event loop.
//
// MQTT 5, for three subscription options MQTT 3.1.1 lacks:
//   - no-local: what the daemon publishes locally (commands from upstream) never comes back to
//     it, so a "both" rule cannot bounce a message back up (mosquitto's bridge loop problem);
//   - retain-as-published: a retained local message goes upstream still retained;
//   - send-retained-only-on-new-subscription: a restart does not resend every retained message.
// The session is persistent (clean start off, session expiry unlimited), so the broker queues
// QoS 1 messages while the daemon is down, and a QoS 1 message is acknowledged only after
// `after_read` has run (the spool's commit): libmosquitto is put in threaded mode, which makes it
// queue its PUBACKs for loop_write instead of writing them inside loop_read.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "modem/log_throttle.hpp"
#include "modem/session/backoff.hpp"
#include "modem/transport/event_loop.hpp"

struct mosquitto;
struct mosquitto_message;
struct mqtt5__property;

namespace spdlog {
class logger;
}

namespace cellmqttd {

struct LocalClientConfig {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string client_id = "cellmqttd";
  std::optional<std::string> username;
  std::optional<std::string> password;
  bool clean_session = false;
  int keepalive_s = 60;
  // Published (retained) by the broker if the daemon vanishes: "<status topic>/state" = "0".
  std::optional<std::pair<std::string, std::string>> will;
  modem::session::BackoffConfig reconnect;
  // MQTT 5 Maximum Packet Size (§3.1.2.24), 0 for none: the broker must not send a larger packet
  // and discards the message instead, so it is never read into memory here.
  std::uint32_t max_packet_size = 0;
  // What the client holds to publish while the broker is away, by count and by bytes (topic +
  // payload); beyond either, the oldest is dropped. The byte bound is what keeps memory in check:
  // 120 held messages of 250 KB took the daemon from 9 to 40 MB (issue 18). 4 MiB is about half
  // the daemon's whole footprint when idle, and over 6 minutes of everything a 115200-baud AT port
  // can bring down (11.5 KB/s), while a local broker restart takes seconds.
  std::size_t max_held = 10000;
  std::size_t max_held_bytes = 4 * 1024 * 1024;
};

struct LocalMessage {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

struct LocalClientStats {
  std::uint64_t received = 0;
  std::uint64_t published = 0;
  std::uint64_t held_dropped = 0;  // held messages dropped because the hold was full (count or bytes)
  std::uint64_t connects = 0;
  std::uint64_t publish_failed = 0;  // refused by libmosquitto (a topic that is not valid UTF-8, say)
};

class LocalClient final : public modem::EventSource {
 public:
  struct Events {
    std::function<void(const LocalMessage&)> message;
    // After every batch of incoming packets, before their acknowledgements are written. false:
    // they must not be acknowledged (the spool could not store them); the client then drops the
    // connection before any acknowledgement leaves, and the broker sends them again once it is
    // back (a persistent session keeps them: [local] clean_session = false, the default).
    std::function<bool()> after_read;
    std::function<void(bool connected)> connection_changed;
  };

  LocalClient(modem::EventLoop& loop, LocalClientConfig config, Events events);
  ~LocalClient() override;
  LocalClient(const LocalClient&) = delete;
  LocalClient& operator=(const LocalClient&) = delete;

  void start();
  // Publishes now, or holds it (bounded) until the broker is back.
  void publish(const LocalMessage& message);
  // Replaces the subscriptions: unsubscribes what went away, subscribes what is new.
  void set_subscriptions(std::vector<std::pair<std::string, int>> filters);
  // Publishes `last_words` (retained), then disconnects cleanly; `done` when it is on the wire.
  void stop(std::optional<LocalMessage> last_words, std::function<void()> done);

  bool connected() const { return connected_; }
  std::size_t held() const { return held_.size(); }
  std::size_t held_bytes() const { return held_bytes_; }
  const LocalClientStats& stats() const { return stats_; }

  int poll_fd() const override;
  short poll_events() const override;
  std::optional<modem::TimePoint> next_deadline() const override;
  void dispatch(short revents) override;

 private:
  static void on_connect(mosquitto*, void* self, int rc, int flags, const mqtt5__property*);
  static void on_disconnect(mosquitto*, void* self, int rc, const mqtt5__property*);
  static void on_message(mosquitto*, void* self, const mosquitto_message*, const mqtt5__property*);
  static void on_publish(mosquitto*, void* self, int mid, int reason, const mqtt5__property*);

  void connect();
  void lost(const std::string& why);
  void drop_unacknowledged();
  void subscribe(const std::string& filter, int qos);
  void send(const LocalMessage& message);
  void drop_oldest_held();

  modem::EventLoop& loop_;
  LocalClientConfig config_;
  Events events_;
  std::shared_ptr<spdlog::logger> log_;
  mosquitto* mosq_ = nullptr;
  bool connecting_ = false;
  bool connected_ = false;
  bool stopping_ = false;
  std::function<void()> stopped_;
  modem::session::Backoff backoff_;
  std::optional<modem::TimePoint> reconnect_at_;
  modem::TimePoint next_misc_{};
  std::vector<std::pair<std::string, int>> subscriptions_;
  std::deque<LocalMessage> held_;
  std::size_t held_bytes_ = 0;  // topic + payload of what held_ holds
  LocalClientStats stats_;
  // Last: their summaries, written at destruction, read stats_.
  modem::LogThrottle held_drop_log_;
  modem::LogThrottle publish_error_log_;
};

}  // namespace cellmqttd
