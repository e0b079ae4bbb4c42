#include "mqtt_test_client.hpp"

#include <mosquitto.h>

#include <algorithm>
#include <climits>
#include <stdexcept>

#include "temp_dir.hpp"

namespace test_support {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A hang guard for waits that must succeed, not a timing assertion.
constexpr milliseconds kGuard(10'000);

MqttTestClient* client_of(void* self) {
  return static_cast<MqttTestClient*>(self);
}

}  // namespace

MqttTestClient::MqttTestClient() {
  static const int initialised = mosquitto_lib_init();
  (void)initialised;
}

MqttTestClient::~MqttTestClient() {
  if (mosq_ != nullptr) mosquitto_destroy(mosq_);
}

template <typename Done>
bool MqttTestClient::pump_until(Done done, milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    // Waits in select() for the socket, at most 50 ms, so the deadline is looked at often.
    const int rc = mosquitto_loop(mosq_, static_cast<int>(std::min<long long>(left, 50)), 1);
    if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || !connected_) return done();
  }
  return true;
}

void MqttTestClient::connect(int port, const std::string& client_id, std::optional<std::string> username,
                             std::optional<std::string> password, bool clean_session,
                             std::optional<ClientTls> tls) {
  if (mosq_ != nullptr) mosquitto_destroy(mosq_);
  connack_.reset();
  // A new libmosquitto client numbers its packets from 1 again.
  acked_.clear();
  subacks_.clear();
  mosq_ = mosquitto_new(client_id.c_str(), clean_session, this);
  if (mosq_ == nullptr) throw std::runtime_error("mosquitto_new failed");
  mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);  // the benchmarks time arrivals
  mosquitto_connect_callback_set(mosq_, &MqttTestClient::on_connect);
  mosquitto_disconnect_callback_set(mosq_, &MqttTestClient::on_disconnect);
  mosquitto_publish_callback_set(mosq_, &MqttTestClient::on_publish);
  mosquitto_subscribe_callback_set(mosq_, &MqttTestClient::on_subscribe);
  mosquitto_message_callback_set(mosq_, &MqttTestClient::on_message);
  if (username || password) {
    mosquitto_username_pw_set(mosq_, username ? username->c_str() : nullptr,
                              password ? password->c_str() : nullptr);
  }
  if (tls) {
    // libmosquitto reads certificates from files only.
    tls_files_ = std::make_unique<TempDir>("mqtt-test-client");
    const std::string ca = tls_files_->write("ca.pem", tls->ca_pem);
    const std::string cert = tls->cert_pem ? tls_files_->write("client.pem", *tls->cert_pem) : "";
    const std::string key = tls->key_pem ? tls_files_->write("client.key", *tls->key_pem) : "";
    const int rc = mosquitto_tls_set(mosq_, ca.c_str(), nullptr, cert.empty() ? nullptr : cert.c_str(),
                                     key.empty() ? nullptr : key.c_str(), nullptr);
    if (rc != MOSQ_ERR_SUCCESS)
      throw std::runtime_error(std::string("test client TLS: ") + mosquitto_strerror(rc));
  }
  // A loopback connect: it completes or is refused at once.
  if (const int rc = mosquitto_connect(mosq_, "127.0.0.1", port, 60); rc != MOSQ_ERR_SUCCESS)
    throw std::runtime_error(std::string("test client connect: ") + mosquitto_strerror(rc));
  connected_ = true;
  if (!pump_until([this] { return connack_.has_value(); }, kGuard))
    throw std::runtime_error("test client: no CONNACK");
  if (*connack_ != 0)
    throw std::runtime_error(std::string("test client refused: ") + mosquitto_connack_string(*connack_));
}

int MqttTestClient::subscribe(const std::string& topic, int qos) {
  int mid = 0;
  if (const int rc = mosquitto_subscribe(mosq_, &mid, topic.c_str(), qos); rc != MOSQ_ERR_SUCCESS)
    throw std::runtime_error(std::string("test client subscribe: ") + mosquitto_strerror(rc));
  if (!pump_until([this, mid] { return subacks_.count(mid) != 0; }, kGuard))
    throw std::runtime_error("test client: no SUBACK");
  return subacks_[mid];
}

void MqttTestClient::publish(const std::string& topic, std::string_view payload, int qos, bool retain) {
  if (payload.size() > INT_MAX) throw std::runtime_error("payload too large");
  int mid = 0;
  const int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                                   payload.data(), qos, retain);
  if (rc != MOSQ_ERR_SUCCESS)
    throw std::runtime_error(std::string("test client publish: ") + mosquitto_strerror(rc));
  if (!pump_until([this, mid] { return acked_.count(mid) != 0; }, kGuard))
    throw std::runtime_error("test client: publish not acknowledged");
}

std::vector<ReceivedMessage> MqttTestClient::wait_for_messages(std::size_t n, milliseconds limit) {
  pump_until([this, n] { return messages_.size() >= n; }, limit);
  return messages_;
}

bool MqttTestClient::pump(milliseconds wait) {
  if (mosq_ == nullptr || !connected_) return false;
  const int rc = mosquitto_loop(mosq_, static_cast<int>(wait.count()), 1);
  return rc != MOSQ_ERR_NO_CONN && rc != MOSQ_ERR_CONN_LOST && connected_;
}

void MqttTestClient::disconnect() {
  if (mosq_ == nullptr || !connected_) return;
  mosquitto_disconnect(mosq_);
  pump_until([this] { return !connected_; }, kGuard);
}

void MqttTestClient::on_connect(mosquitto*, void* self, int rc) {
  client_of(self)->connack_ = rc;
}

void MqttTestClient::on_disconnect(mosquitto*, void* self, int) {
  client_of(self)->connected_ = false;
}

void MqttTestClient::on_publish(mosquitto*, void* self, int mid) {
  client_of(self)->acked_.insert(mid);
}

void MqttTestClient::on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted) {
  client_of(self)->subacks_[mid] = count > 0 ? granted[0] : 128;
}

int MqttTestClient::socket() const {
  return mosq_ != nullptr ? mosquitto_socket(mosq_) : -1;
}

void MqttTestClient::on_message(mosquitto*, void* self, const mosquitto_message* message) {
  client_of(self)->messages_.push_back(ReceivedMessage{
      message->topic,
      message->payloadlen > 0 ? std::string(static_cast<const char*>(message->payload),
                                            static_cast<std::size_t>(message->payloadlen))
                              : std::string(),
      message->qos,
      message->retain,
      Clock::now(),
  });
}

}  // namespace test_support
