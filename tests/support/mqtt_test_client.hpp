// The test's own MQTT client, to check from the outside what reached the broker: subscribe,
// publish, and collect what arrives byte-exact. libmosquitto pumped by mosquitto_loop() in this
// (test) process; every wait is for a condition and ends at a generous hang guard.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace test_support {

struct ReceivedMessage {
  std::string topic;
  std::string payload;  // byte-exact
  int qos;
  bool retain;
  std::chrono::steady_clock::time_point received_at;  // when the callback saw it (for the benchmarks)
};

// TLS for a broker whose listener speaks only TLS (BrokerOptions::tls), PEM: the CA its
// certificate is checked against, and for mutual TLS the client's certificate and key.
struct ClientTls {
  std::string ca_pem;
  std::optional<std::string> cert_pem = std::nullopt;
  std::optional<std::string> key_pem = std::nullopt;
};

class TempDir;

class MqttTestClient {
 public:
  MqttTestClient();
  ~MqttTestClient();
  // libmosquitto holds a pointer to the client for its callbacks: it stays where it is.
  MqttTestClient(const MqttTestClient&) = delete;
  MqttTestClient& operator=(const MqttTestClient&) = delete;

  // Connects to 127.0.0.1:port and waits for the CONNACK. Throws std::runtime_error when the
  // connection fails or the broker refuses it. With clean_session false the broker keeps the
  // client's subscriptions and queues its QoS 1/2 messages while it is away; connecting again
  // with the same id picks them up (what arrived before stays in messages()).
  // With `tls` it connects over TLS, checking the broker's certificate for 127.0.0.1.
  void connect(int port, const std::string& client_id, std::optional<std::string> username = std::nullopt,
               std::optional<std::string> password = std::nullopt, bool clean_session = true,
               std::optional<ClientTls> tls = std::nullopt);
  // Subscribes and waits for the SUBACK; returns the granted QoS (128: refused).
  int subscribe(const std::string& topic, int qos);
  // Publishes and returns once the broker acknowledged it (QoS 0: once it is written).
  void publish(const std::string& topic, std::string_view payload, int qos, bool retain = false);
  // Pumps until at least `n` messages arrived in all or `limit` passed; returns all that arrived.
  std::vector<ReceivedMessage> wait_for_messages(std::size_t n, std::chrono::milliseconds limit);
  // One pass of the network loop, waiting at most `wait` for the socket: for a test that drives
  // several clients from one loop. Returns false once the connection is gone.
  bool pump(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  bool connected() const { return connected_; }
  // The connection's socket, to wait on several clients at once with poll() and then pump() the
  // ones that have something; -1 when not connected.
  int socket() const;
  const std::vector<ReceivedMessage>& messages() const { return messages_; }
  void disconnect();

 private:
  static void on_connect(mosquitto* m, void* self, int rc);
  static void on_disconnect(mosquitto* m, void* self, int rc);
  static void on_publish(mosquitto* m, void* self, int mid);
  static void on_subscribe(mosquitto* m, void* self, int mid, int count, const int* granted);
  static void on_message(mosquitto* m, void* self, const mosquitto_message* message);

  template <typename Done>
  bool pump_until(Done done, std::chrono::milliseconds limit);

  mosquitto* mosq_ = nullptr;
  std::unique_ptr<TempDir> tls_files_;  // the PEMs libmosquitto reads, while the client lives
  std::optional<int> connack_;
  bool connected_ = false;
  std::set<int> acked_;         // mids of publishes the broker acknowledged
  std::map<int, int> subacks_;  // mid -> granted QoS
  std::vector<ReceivedMessage> messages_;
};

}  // namespace test_support
