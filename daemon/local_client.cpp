#include "local_client.hpp"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "modem/log.hpp"

namespace cellmqttd {

namespace {

void init_library() {
  static const int initialised = mosquitto_lib_init();
  (void)initialised;
}

// Subscription options (MQTT 5 §3.8.3.1), see the header.
constexpr int kSubscriptionOptions =
    MQTT_SUB_OPT_NO_LOCAL | MQTT_SUB_OPT_RETAIN_AS_PUBLISHED | MQTT_SUB_OPT_SEND_RETAIN_NEW;

}  // namespace

LocalClient::LocalClient(modem::EventLoop& loop, LocalClientConfig config, Events events)
    : loop_(loop),
      config_(std::move(config)),
      events_(std::move(events)),
      log_(modem::logger("bridge")),
      backoff_(config_.reconnect),
      held_drop_log_(loop,
                     [this](std::uint64_t n) {
                       log_->warn(
                           "local broker down: dropped {} more messages from upstream ({} dropped so far)", n,
                           stats_.held_dropped);
                     }),
      publish_error_log_(loop, [this](std::uint64_t n) {
        log_->warn("could not publish {} more messages locally ({} so far)", n, stats_.publish_failed);
      }) {
  init_library();
  mosq_ = mosquitto_new(config_.client_id.c_str(), config_.clean_session, this);
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  // Small packets (a PUBACK, a command from the cloud) leave at once: with Nagle's algorithm one
  // could wait for the ACK of the previous one, up to the peer's delayed-ACK time (40 ms).
  mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
  // Threaded mode only changes where libmosquitto writes: packets are queued and leave in
  // loop_write(), never from inside loop_read() or publish(). Nothing runs on another thread.
  mosquitto_threaded_set(mosq_, true);
  mosquitto_connect_v5_callback_set(mosq_, &LocalClient::on_connect);
  mosquitto_disconnect_v5_callback_set(mosq_, &LocalClient::on_disconnect);
  mosquitto_message_v5_callback_set(mosq_, &LocalClient::on_message);
  mosquitto_publish_v5_callback_set(mosq_, &LocalClient::on_publish);
  if (config_.username) {
    mosquitto_username_pw_set(mosq_, config_.username->c_str(),
                              config_.password ? config_.password->c_str() : nullptr);
  }
  if (config_.will) {
    const auto& [topic, payload] = *config_.will;
    mosquitto_will_set_v5(mosq_, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, true,
                          nullptr);
  }
}

LocalClient::~LocalClient() {
  loop_.remove(*this);
  mosquitto_destroy(mosq_);
}

void LocalClient::start() {
  loop_.add(*this);
  connect();
}

void LocalClient::connect() {
  reconnect_at_.reset();
  mosquitto_property* properties = nullptr;
  // A persistent session must outlive the connection, or the broker forgets it at once (MQTT 5
  // §3.1.2.11.2: expiry 0 ends the session with the connection).
  mosquitto_property_add_int32(&properties, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                               config_.clean_session ? 0 : UINT32_MAX);
  // libmosquitto keeps these properties for its reconnects, so the limit holds on every connection.
  if (config_.max_packet_size > 0)
    mosquitto_property_add_int32(&properties, MQTT_PROP_MAXIMUM_PACKET_SIZE, config_.max_packet_size);
  // The TCP connect is a blocking call in libmosquitto's v5 API; the local broker is on loopback
  // (or the LAN), where it returns at once, refused or accepted.
  const int rc = stats_.connects == 0 && !connecting_
                     ? mosquitto_connect_bind_v5(mosq_, config_.host.c_str(), config_.port,
                                                 config_.keepalive_s, nullptr, properties)
                     : mosquitto_reconnect(mosq_);
  mosquitto_property_free_all(&properties);
  connecting_ = true;
  if (rc != MOSQ_ERR_SUCCESS) {
    lost(rc == MOSQ_ERR_ERRNO ? std::string(std::strerror(errno)) : mosquitto_strerror(rc));
    return;
  }
  next_misc_ = loop_.clock().now() + std::chrono::seconds(1);
}

void LocalClient::lost(const std::string& why) {
  const bool was_connected = connected_;
  connected_ = false;
  if (stopping_) {
    if (stopped_) std::exchange(stopped_, nullptr)();
    return;
  }
  const auto wait = backoff_.next();
  if (was_connected) {
    log_->warn("lost the local broker {}:{} ({}); reconnecting in {:.1f} s", config_.host, config_.port, why,
               std::chrono::duration<double>(wait).count());
    if (events_.connection_changed) events_.connection_changed(false);
  } else {
    log_->warn("cannot reach the local broker {}:{} ({}); retrying in {:.1f} s", config_.host, config_.port,
               why, std::chrono::duration<double>(wait).count());
  }
  reconnect_at_ = loop_.clock().now() + wait;
}

void LocalClient::drop_unacknowledged() {
  // libmosquitto has already queued the PUBACKs of what was just read, and none of them may leave.
  // Shutting the socket down under it makes its next write fail instead of sending; the reconnect
  // discards the queue, and the broker sends every unacknowledged QoS 1 message again.
  ::shutdown(mosquitto_socket(mosq_), SHUT_RDWR);
  lost("what it sent could not be stored, so it was not acknowledged and comes again");
}

void LocalClient::on_connect(mosquitto*, void* self_ptr, int rc, int, const mqtt5__property*) {
  auto* self = static_cast<LocalClient*>(self_ptr);
  if (rc != 0) {
    self->log_->error("the local broker refused the connection: {} (check [local] username and password)",
                      mosquitto_reason_string(rc));
    mosquitto_disconnect(self->mosq_);
    return;
  }
  self->connected_ = true;
  ++self->stats_.connects;
  self->backoff_.reset();
  self->log_->info("connected to the local broker {}:{}", self->config_.host, self->config_.port);
  for (const auto& [filter, qos] : self->subscriptions_)
    self->subscribe(filter, qos);
  while (!self->held_.empty() && self->connected_) {
    self->send(self->held_.front());
    self->held_bytes_ -= self->held_.front().topic.size() + self->held_.front().payload.size();
    self->held_.pop_front();
  }
  if (self->events_.connection_changed) self->events_.connection_changed(true);
}

void LocalClient::on_disconnect(mosquitto*, void* self_ptr, int rc, const mqtt5__property*) {
  auto* self = static_cast<LocalClient*>(self_ptr);
  self->lost(rc == 0 ? std::string("disconnected") : mosquitto_reason_string(rc));
}

void LocalClient::on_message(mosquitto*, void* self_ptr, const mosquitto_message* m, const mqtt5__property*) {
  auto* self = static_cast<LocalClient*>(self_ptr);
  ++self->stats_.received;
  if (!self->events_.message) return;
  LocalMessage message;
  message.topic = m->topic;
  if (m->payloadlen > 0)
    message.payload.assign(static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen));
  message.qos = m->qos;
  message.retain = m->retain;
  self->events_.message(message);
}

void LocalClient::on_publish(mosquitto*, void* self_ptr, int, int, const mqtt5__property*) {
  auto* self = static_cast<LocalClient*>(self_ptr);
  if (self->stopping_ && self->stopped_) mosquitto_disconnect(self->mosq_);
}

void LocalClient::subscribe(const std::string& filter, int qos) {
  const int rc = mosquitto_subscribe_v5(mosq_, nullptr, filter.c_str(), qos, kSubscriptionOptions, nullptr);
  if (rc != MOSQ_ERR_SUCCESS)
    log_->error("cannot subscribe to \"{}\" locally: {}", modem::printable(filter, 300),
                mosquitto_strerror(rc));
}

void LocalClient::set_subscriptions(std::vector<std::pair<std::string, int>> filters) {
  if (connected_) {
    for (const auto& [filter, qos] : subscriptions_) {
      if (std::find(filters.begin(), filters.end(), std::make_pair(filter, qos)) == filters.end()) {
        mosquitto_unsubscribe_v5(mosq_, nullptr, filter.c_str(), nullptr);
      }
    }
    for (const auto& entry : filters) {
      if (std::find(subscriptions_.begin(), subscriptions_.end(), entry) == subscriptions_.end()) {
        subscribe(entry.first, entry.second);
      }
    }
  }
  subscriptions_ = std::move(filters);
}

void LocalClient::send(const LocalMessage& message) {
  const int rc =
      mosquitto_publish_v5(mosq_, nullptr, message.topic.c_str(), static_cast<int>(message.payload.size()),
                           message.payload.data(), message.qos, message.retain, nullptr);
  if (rc == MOSQ_ERR_SUCCESS) {
    ++stats_.published;
  } else {
    ++stats_.publish_failed;
    if (publish_error_log_.allow()) {
      log_->warn("cannot publish to \"{}\" locally: {}", modem::printable(message.topic, 80),
                 mosquitto_strerror(rc));
    }
  }
}

void LocalClient::publish(const LocalMessage& message) {
  if (connected_) return send(message);
  const std::size_t size = message.topic.size() + message.payload.size();
  if (size > config_.max_held_bytes) {
    // Dropping everything held would not make room for it. (Not reached with the module's
    // receive limit, a few KB, far below the bound; kept so the bound holds whatever comes.)
    ++stats_.held_dropped;
    if (held_drop_log_.allow()) {
      log_->warn(
          "local broker down: dropped a message for \"{}\": its {} bytes do not fit the hold of {} "
          "bytes ({} dropped so far)",
          modem::printable(message.topic, 80), size, config_.max_held_bytes, stats_.held_dropped);
    }
    return;
  }
  while (!held_.empty() &&
         (held_.size() >= config_.max_held || held_bytes_ + size > config_.max_held_bytes)) {
    drop_oldest_held();
  }
  held_.push_back(message);
  held_bytes_ += size;
}

void LocalClient::drop_oldest_held() {
  held_bytes_ -= held_.front().topic.size() + held_.front().payload.size();
  held_.pop_front();
  ++stats_.held_dropped;
  if (held_drop_log_.allow()) {
    log_->warn(
        "local broker down: the hold of messages from upstream is full ({} messages or {} bytes at most); "
        "dropped the oldest ({} dropped so far; more drops are summarised every {} s)",
        config_.max_held, config_.max_held_bytes, stats_.held_dropped,
        std::chrono::duration_cast<std::chrono::seconds>(held_drop_log_.interval()).count());
  }
}

void LocalClient::stop(std::optional<LocalMessage> last_words, std::function<void()> done) {
  stopping_ = true;
  if (!connected_) {
    if (done) done();
    return;
  }
  stopped_ = std::move(done);
  if (last_words) {
    LocalMessage words = *last_words;
    words.qos = 1;  // on_publish (the PUBACK) then disconnects
    send(words);
  } else {
    mosquitto_disconnect(mosq_);
  }
}

int LocalClient::poll_fd() const {
  return reconnect_at_ ? -1 : mosquitto_socket(mosq_);
}

short LocalClient::poll_events() const {
  return static_cast<short>(POLLIN | (mosquitto_want_write(mosq_) ? POLLOUT : 0));
}

std::optional<modem::TimePoint> LocalClient::next_deadline() const {
  if (reconnect_at_) return reconnect_at_;
  if (mosquitto_socket(mosq_) < 0) return std::nullopt;
  return next_misc_;
}

namespace {

constexpr int kMaxPacketsPerRead = 1000;

bool bytes_waiting(int fd) {
  int count = 0;
  return fd >= 0 && ::ioctl(fd, FIONREAD, &count) == 0 && count > 0;
}

}  // namespace

void LocalClient::dispatch(short revents) {
  const auto now = loop_.clock().now();
  if (reconnect_at_) {
    if (now >= *reconnect_at_) connect();
    return;
  }
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    // libmosquitto reads one packet per call (its max_packets is overridden by its own queue
    // lengths). Reading everything that has arrived before after_read() lets the spool commit a
    // burst in one transaction, one fsync, instead of one per message. Bounded, so a flood
    // cannot starve the module's side of the loop.
    int rc = MOSQ_ERR_SUCCESS;
    for (int packets = 0; packets < kMaxPacketsPerRead; ++packets) {
      rc = mosquitto_loop_read(mosq_, 1);
      if (rc != MOSQ_ERR_SUCCESS || !bytes_waiting(mosquitto_socket(mosq_))) break;
    }
    // The spool commits here: before loop_write() puts the PUBACKs of what was just read on the wire.
    if (events_.after_read && !events_.after_read()) return drop_unacknowledged();
    if (rc != MOSQ_ERR_SUCCESS && !reconnect_at_ && mosquitto_socket(mosq_) < 0) lost(mosquitto_strerror(rc));
  }
  if (!reconnect_at_ && mosquitto_socket(mosq_) >= 0 && mosquitto_want_write(mosq_))
    mosquitto_loop_write(mosq_, 100);
  if (!reconnect_at_ && now >= next_misc_) {
    mosquitto_loop_misc(mosq_);
    // Keep-alive needs a look every quarter of its period, no more: an idle daemon stays asleep.
    next_misc_ = now + std::max<modem::Duration>(std::chrono::seconds(1),
                                                 std::chrono::seconds(config_.keepalive_s) / 4);
  }
}

}  // namespace cellmqttd
