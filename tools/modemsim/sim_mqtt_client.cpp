#include "sim_mqtt_client.hpp"

namespace modemsim {

SimMqttClient::SimMqttClient(modem::EventLoop& loop, std::string broker_host, int broker_port,
                             modem::Duration rtt, Events events)
    : loop_(loop),
      broker_host_(std::move(broker_host)),
      broker_port_(broker_port),
      rtt_(rtt),
      events_(std::move(events)) {}

SimMqttClient::~SimMqttClient() {
  reset_link();
}

void SimMqttClient::reset_link() {
  ++link_generation_;
  for (auto& [mid, entry] : in_flight_)
    loop_.cancel(entry.timer);
  in_flight_.clear();
  pending_subscriptions_.clear();
  pending_unsubscriptions_.clear();
  state_ = State::kClosed;
  if (!link_) return;
  loop_.remove(*link_);
  // The link may be reporting to us from inside its own dispatch(): destroy it on the next turn
  // of the loop, not under its feet.
  std::shared_ptr<MqttLink> retired(std::move(link_));
  loop_.call_after(modem::Duration::zero(), [retired] {});
}

void SimMqttClient::after_round_trip(modem::TimePoint sent, std::function<void()> action) {
  const auto generation = link_generation_;
  auto guarded = [this, generation, action = std::move(action)] {
    if (generation == link_generation_) action();
  };
  const modem::TimePoint due = sent + rtt_;
  if (due <= loop_.clock().now()) {
    guarded();
  } else {
    loop_.call_at(due, std::move(guarded));
  }
}

void SimMqttClient::open(std::optional<TlsClientConfig> tls) {
  reset_link();
  state_ = State::kOpening;
  request_sent_ = loop_.clock().now();
  MqttLinkEvents link_events;
  link_events.on_opened = [this](bool ok) {
    after_round_trip(request_sent_, [this, ok] {
      state_ = ok ? State::kOpen : State::kClosed;
      if (events_.opened) events_.opened(ok ? OpenResult::kOpen : OpenResult::kNetworkFailed, {});
    });
  };
  link_events.on_tls_failed = [this](std::string why) {
    after_round_trip(request_sent_, [this, why = std::move(why)] {
      state_ = State::kClosed;
      if (events_.opened) events_.opened(OpenResult::kTlsFailed, why);
    });
  };
  link_events.on_connack = [this](int code) {
    after_round_trip(request_sent_, [this, code] {
      state_ = code == 0 ? State::kConnected : State::kClosed;
      if (events_.connected) events_.connected(code);
    });
  };
  link_events.on_suback = [this](int mid, std::vector<int> granted) {
    auto it = pending_subscriptions_.find(mid);
    if (it == pending_subscriptions_.end()) return;
    const auto [msgid, sent] = it->second;
    pending_subscriptions_.erase(it);
    after_round_trip(sent, [this, msgid, granted = std::move(granted)] {
      if (events_.subscribed) events_.subscribed(msgid, granted);
    });
  };
  link_events.on_unsuback = [this](int mid) {
    auto it = pending_unsubscriptions_.find(mid);
    if (it == pending_unsubscriptions_.end()) return;
    const auto [msgid, sent] = it->second;
    pending_unsubscriptions_.erase(it);
    after_round_trip(sent, [this, msgid] {
      if (events_.unsubscribed) events_.unsubscribed(msgid);
    });
  };
  link_events.on_published = [this](int mid) { on_link_published(mid); };
  link_events.on_message = [this](MqttMessage message) {
    ++messages_down_;
    if (events_.message) events_.message(std::move(message));
  };
  link_events.on_lost = [this] {
    const State was = state_;
    reset_link();
    if (was == State::kOpening) {
      if (events_.opened) events_.opened(OpenResult::kNetworkFailed, {});
    } else if (was == State::kConnecting) {
      if (events_.connected) events_.connected(-1);
    } else if (events_.lost) {
      events_.lost();
    }
  };
  link_ = std::make_unique<MqttLink>(broker_host_, broker_port_, std::move(link_events));
  loop_.add(*link_);
  link_->set_paused(!network_up_);
  link_->open(std::move(tls));
}

void SimMqttClient::connect(const MqttConnectOptions& options) {
  if (!link_ || state_ != State::kOpen) return;
  state_ = State::kConnecting;
  request_sent_ = loop_.clock().now();
  link_->connect(options);
}

bool SimMqttClient::subscribe(int msgid, const std::vector<std::pair<std::string, int>>& topics) {
  if (!link_ || state_ != State::kConnected) return false;
  const auto mid = link_->subscribe(topics);
  if (!mid) return false;
  pending_subscriptions_[*mid] = {msgid, loop_.clock().now()};
  return true;
}

bool SimMqttClient::unsubscribe(int msgid, const std::vector<std::string>& topics) {
  if (!link_ || state_ != State::kConnected) return false;
  const auto mid = link_->unsubscribe(topics);
  if (!mid) return false;
  pending_unsubscriptions_[*mid] = {msgid, loop_.clock().now()};
  return true;
}

bool SimMqttClient::publish(int msgid, const std::string& topic, std::string_view payload, int qos,
                            bool retain, const SimMqttTimeouts& timeouts) {
  if (!link_ || state_ != State::kConnected) return false;
  const auto mid = link_->publish(topic, payload, qos, retain);
  if (!mid) return false;
  ++messages_up_;
  if (qos == 0) {
    // No acknowledgement to wait for: the module reports the send as done at once.
    if (events_.published) events_.published(0, 0, 0);
    return true;
  }
  in_flight_[*mid] = InFlight{msgid, loop_.clock().now(), timeouts};
  arm_retransmission(*mid);
  return true;
}

void SimMqttClient::arm_retransmission(int mid) {
  auto it = in_flight_.find(mid);
  if (it == in_flight_.end()) return;
  const auto generation = link_generation_;
  it->second.timer =
      loop_.call_after(std::chrono::seconds(it->second.timeouts.packet_timeout_s), [this, mid, generation] {
        if (generation != link_generation_) return;
        auto entry = in_flight_.find(mid);
        if (entry == in_flight_.end()) return;
        InFlight& publish = entry->second;
        if (publish.retransmissions < publish.timeouts.retry_times) {
          ++publish.retransmissions;
          if (events_.published) events_.published(publish.msgid, 1, publish.retransmissions);
          arm_retransmission(mid);
          return;
        }
        const int msgid = publish.msgid;
        in_flight_.erase(entry);
        if (events_.published) events_.published(msgid, 2, 0);
      });
}

void SimMqttClient::on_link_published(int mid) {
  auto it = in_flight_.find(mid);
  if (it == in_flight_.end()) return;  // QoS 0 (reported already), or given up on
  loop_.cancel(it->second.timer);
  it->second.timer = 0;
  const int msgid = it->second.msgid;
  // The window slot stays taken until the acknowledgement "arrives", one round trip after sending.
  after_round_trip(it->second.sent, [this, mid, msgid] {
    if (in_flight_.erase(mid) == 0) return;
    if (events_.published) events_.published(msgid, 0, 0);
  });
}

void SimMqttClient::disconnect() {
  if (link_) link_->disconnect();
  reset_link();
}

void SimMqttClient::drop() {
  if (link_) link_->drop();
  reset_link();
}

void SimMqttClient::set_network_up(bool up) {
  network_up_ = up;
  if (link_) link_->set_paused(!up);
}

}  // namespace modemsim
