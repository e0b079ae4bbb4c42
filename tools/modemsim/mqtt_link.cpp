#include "mqtt_link.hpp"

#include <mosquitto.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>

#include "modem/log.hpp"

namespace modemsim {
namespace {

using std::chrono::seconds;

// How often loop_misc runs while connected: libmosquitto's documentation asks for about once a
// second, and it is what sends PINGREQ on time and notices a keepalive that went unanswered.
constexpr auto kMiscInterval = seconds(1);

// A deadline the loop always finds passed: "dispatch me now" (events are queued for delivery).
constexpr modem::TimePoint kDueNow{};

std::shared_ptr<spdlog::logger> log() {
  static const auto logger = modem::logger("modemsim");
  return logger;
}

void init_library_once() {
  // mosquitto_lib_init is not reference-counted in a useful way and is cheap to leave initialised
  // for the life of the process; mosquitto_lib_cleanup would pull it from under other links.
  static const int rc = mosquitto_lib_init();
  (void)rc;
}

modem::TimePoint now() {
  return std::chrono::steady_clock::now();
}

std::string numeric_host(const sockaddr* address, socklen_t length) {
  char host[NI_MAXHOST] = {};
  if (::getnameinfo(address, length, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) return {};
  return host;
}

MqttLink* link_of(void* self) {
  return static_cast<MqttLink*>(self);
}

}  // namespace

const char* to_string(MqttLink::State state) {
  switch (state) {
    case MqttLink::State::kIdle:
      return "idle";
    case MqttLink::State::kOpening:
      return "opening";
    case MqttLink::State::kOpen:
      return "open";
    case MqttLink::State::kConnecting:
      return "connecting";
    case MqttLink::State::kConnected:
      return "connected";
    case MqttLink::State::kClosed:
      return "closed";
  }
  return "?";
}

MqttLink::MqttLink(std::string broker_host, int broker_port, MqttLinkEvents events)
    : host_(std::move(broker_host)),
      port_(broker_port),
      events_(std::make_shared<const MqttLinkEvents>(std::move(events))),
      alive_(std::make_shared<char>('\0')) {
  init_library_once();
}

MqttLink::~MqttLink() {
  close_everything();
}

bool MqttLink::open(std::optional<TlsClientConfig> tls) {
  if (state_ != State::kIdle && state_ != State::kClosed) return false;
  close_everything();
  tls_ = std::move(tls);
  queued_.clear();
  subacks_.clear();
  candidates_.clear();

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port_);
  if (const int rc = ::getaddrinfo(host_.c_str(), service.c_str(), &hints, &found); rc != 0) {
    log()->warn("mqtt link: cannot resolve {}: {}", host_, ::gai_strerror(rc));
  } else {
    for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
      sockaddr_storage address{};
      std::memcpy(&address, a->ai_addr, a->ai_addrlen);
      candidates_.push_back({address, a->ai_addrlen});
    }
    ::freeaddrinfo(found);
  }
  state_ = State::kOpening;
  try_next_candidate();
  return true;
}

// Tries the resolved addresses in turn, as libmosquitto does ("localhost" may give ::1 first to a
// broker listening on 127.0.0.1 only). Ends in kOpening (waiting for the connect to complete),
// kOpen, or kClosed with on_opened(false) queued.
void MqttLink::try_next_candidate() {
  while (!candidates_.empty()) {
    const Candidate candidate = candidates_.front();
    candidates_.erase(candidates_.begin());
    const auto* address = reinterpret_cast<const sockaddr*>(&candidate.address);
    const int fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (::connect(fd, address, candidate.length) == 0 || errno == EINPROGRESS) {
      tcp_fd_ = fd;
      opened_host_ = numeric_host(address, candidate.length);
      // Completion (or the refusal) is learnt from POLLOUT and SO_ERROR, even when the kernel
      // already finished the handshake, so success and failure take the same path.
      return;
    }
    log()->debug("mqtt link: connect to {}:{} failed: {}", numeric_host(address, candidate.length), port_,
                 std::strerror(errno));
    ::close(fd);
  }
  state_ = State::kClosed;
  queue([](const MqttLinkEvents& e) {
    if (e.on_opened) e.on_opened(false);
  });
}

void MqttLink::finish_open() {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(tcp_fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  if (error == 0) {
    candidates_.clear();
    if (tls_) {
      handshake_ = std::make_unique<TlsHandshake>(tcp_fd_, *tls_);
      step_handshake();
      return;
    }
    state_ = State::kOpen;
    log()->debug("mqtt link: network open to {}:{}", opened_host_, port_);
    queue([](const MqttLinkEvents& e) {
      if (e.on_opened) e.on_opened(true);
    });
    return;
  }
  log()->debug("mqtt link: connect to {}:{} failed: {}", opened_host_, port_, std::strerror(error));
  ::close(tcp_fd_);
  tcp_fd_ = -1;
  try_next_candidate();
}

// The handshake goes as far as the socket lets it each time the loop finds the socket ready for
// what it last wanted (the link stays kOpening meanwhile).
void MqttLink::step_handshake() {
  switch (handshake_->step()) {
    case TlsHandshake::Status::kWantRead:
    case TlsHandshake::Status::kWantWrite:
      return;
    case TlsHandshake::Status::kDone:
      state_ = State::kOpen;
      log()->debug("mqtt link: TLS open to {}:{}", opened_host_, port_);
      queue([](const MqttLinkEvents& e) {
        if (e.on_opened) e.on_opened(true);
      });
      return;
    case TlsHandshake::Status::kFailed:
      break;
  }
  std::string why = handshake_->failure();
  handshake_.reset();
  ::close(tcp_fd_);
  tcp_fd_ = -1;
  state_ = State::kClosed;
  queue([why = std::move(why)](const MqttLinkEvents& e) {
    if (e.on_tls_failed) e.on_tls_failed(why);
  });
}

// The open() connection carries nothing until connect(): readable means the broker closed or
// reset it (a broker sends nothing before CONNECT; anything it does send is dropped).
void MqttLink::watch_open_socket() {
  char buffer[256];
  const ssize_t n = ::recv(tcp_fd_, buffer, sizeof buffer, 0);
  if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))) return;
  log()->info("mqtt link: broker closed the network connection before CONNECT");
  ::close(tcp_fd_);
  tcp_fd_ = -1;
  state_ = State::kClosed;
  queue([](const MqttLinkEvents& e) {
    if (e.on_lost) e.on_lost();
  });
}

bool MqttLink::connect(const MqttConnectOptions& options) {
  if (state_ != State::kOpen) return false;
  if (options.protocol_version != 3 && options.protocol_version != 4) return false;
  if (options.keepalive_s < 0 || options.keepalive_s > 65535) return false;
  if (options.will && (options.will->payload.size() > INT_MAX)) return false;

  // libmosquitto connects on its own socket: the open() one has served its purpose.
  if (handshake_) handshake_->close_notify();
  handshake_.reset();
  ::close(tcp_fd_);
  tcp_fd_ = -1;

  auto fail = [this](const char* what, int rc) {
    log()->warn("mqtt link: {} failed: {}", what, mosquitto_strerror(rc));
    if (mosq_ != nullptr) mosquitto_destroy(mosq_);
    mosq_ = nullptr;
    state_ = State::kClosed;
    queue([](const MqttLinkEvents& e) {
      if (e.on_lost) e.on_lost();
    });
    return true;
  };

  // No id: libmosquitto makes one up, which is only allowed with a clean session (MQTT 3.1.1
  // 3.1.3.1); without one mosquitto_new refuses, reported below as a failed connect.
  const char* id = options.client_id.empty() ? nullptr : options.client_id.c_str();
  mosq_ = mosquitto_new(id, options.clean_session, this);
  if (mosq_ == nullptr) return fail("mosquitto_new", errno == ENOMEM ? MOSQ_ERR_NOMEM : MOSQ_ERR_INVAL);

  // "Threaded" tells libmosquitto that someone else runs the loop, so a publish (or subscribe, or
  // DISCONNECT) only queues its packet instead of writing it from inside the call. Every write
  // then happens in dispatch(): a paused link really sends nothing, and no callback can fire from
  // inside publish(). Nothing here runs on another thread.
  mosquitto_threaded_set(mosq_, true);
  mosquitto_connect_callback_set(mosq_, &MqttLink::handle_connect);
  mosquitto_disconnect_callback_set(mosq_, &MqttLink::handle_disconnect);
  mosquitto_publish_callback_set(mosq_, &MqttLink::handle_publish);
  mosquitto_subscribe_callback_set(mosq_, &MqttLink::handle_subscribe);
  mosquitto_unsubscribe_callback_set(mosq_, &MqttLink::handle_unsubscribe);
  mosquitto_message_callback_set(mosq_, &MqttLink::handle_message);

  int rc = mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION,
                                options.protocol_version == 3 ? MQTT_PROTOCOL_V31 : MQTT_PROTOCOL_V311);
  if (rc != MOSQ_ERR_SUCCESS) return fail("setting the protocol version", rc);
  // The module's TCP stack is not modelled: no Nagle delay of our own on top of --rtt-ms.
  mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
  if (tls_) {
    // open()'s own OpenSSL context, as it is: libmosquitto adds none of its defaults, so it checks
    // the server against the name AT+QMTOPEN gave (not the --broker address it connects to), and
    // at seclevel 0 checks nothing, where mosquitto_tls_set would insist on a CA file. It takes a
    // reference of its own.
    rc = mosquitto_void_option(mosq_, MOSQ_OPT_SSL_CTX, tls_->context.get());
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_int_option(mosq_, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
    if (rc != MOSQ_ERR_SUCCESS) return fail("setting up TLS", rc);
  }
  if (options.username || options.password) {
    rc = mosquitto_username_pw_set(mosq_, options.username ? options.username->c_str() : nullptr,
                                   options.password ? options.password->c_str() : nullptr);
    if (rc != MOSQ_ERR_SUCCESS) return fail("setting the credentials", rc);
  }
  if (options.will) {
    const MqttWill& will = *options.will;
    rc = mosquitto_will_set(mosq_, will.topic.c_str(), static_cast<int>(will.payload.size()),
                            will.payload.data(), will.qos, will.retain);
    if (rc != MOSQ_ERR_SUCCESS) return fail("setting the will", rc);
  }

  // libmosquitto refuses a keepalive of 1..4 s, which MQTT and the module allow; 5 s is the
  // nearest it takes. 0 (no keepalive) it takes as is.
  const int keepalive = options.keepalive_s > 0 && options.keepalive_s < 5 ? 5 : options.keepalive_s;
  // The address open() reached, so both connections go to the same place.
  const std::string& host = opened_host_.empty() ? host_ : opened_host_;
  rc = mosquitto_connect_async(mosq_, host.c_str(), port_, keepalive);
  if (rc != MOSQ_ERR_SUCCESS) return fail("mosquitto_connect_async", rc);

  state_ = State::kConnecting;
  next_misc_ = now() + kMiscInterval;
  return true;
}

std::optional<int> MqttLink::subscribe(const std::vector<std::pair<std::string, int>>& topics) {
  if (state_ != State::kConnected || topics.empty()) return std::nullopt;
  // Checked up front so that a refusal cannot come after part of the request was queued.
  std::map<int, std::vector<std::size_t>> by_qos;
  for (std::size_t i = 0; i < topics.size(); ++i) {
    const auto& [filter, qos] = topics[i];
    if (qos < 0 || qos > 2 || filter.find('\0') != std::string::npos) return std::nullopt;
    if (mosquitto_sub_topic_check(filter.c_str()) != MOSQ_ERR_SUCCESS) return std::nullopt;
    if (mosquitto_validate_utf8(filter.c_str(), static_cast<int>(filter.size())) != MOSQ_ERR_SUCCESS)
      return std::nullopt;
    by_qos[qos].push_back(i);
  }

  // mosquitto_subscribe_multiple asks one QoS for all its filters, while AT+QMTSUB gives each
  // its own: one SUBSCRIBE per distinct QoS, their SUBACKs gathered into one on_suback.
  PendingSuback pending{-1, std::vector<int>(topics.size(), 0x80), {}};
  for (const auto& [qos, indexes] : by_qos) {
    std::vector<char*> filters;
    // libmosquitto only reads the filters; its signature is just not const-correct.
    for (std::size_t i : indexes)
      filters.push_back(const_cast<char*>(topics[i].first.c_str()));
    int mid = 0;
    const int rc = mosquitto_subscribe_multiple(mosq_, &mid, static_cast<int>(filters.size()), filters.data(),
                                                qos, 0, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
      log()->warn("mqtt link: subscribe failed: {}", mosquitto_strerror(rc));
      return std::nullopt;
    }
    if (pending.reported_mid < 0) pending.reported_mid = mid;
    pending.parts[mid] = indexes;
  }
  subacks_.push_back(std::move(pending));
  return subacks_.back().reported_mid;
}

std::optional<int> MqttLink::unsubscribe(const std::vector<std::string>& topics) {
  if (state_ != State::kConnected || topics.empty()) return std::nullopt;
  std::vector<char*> filters;
  for (const std::string& filter : topics) {
    if (filter.find('\0') != std::string::npos) return std::nullopt;
    filters.push_back(const_cast<char*>(filter.c_str()));  // only read, as in subscribe()
  }
  int mid = 0;
  const int rc =
      mosquitto_unsubscribe_multiple(mosq_, &mid, static_cast<int>(filters.size()), filters.data(), nullptr);
  if (rc != MOSQ_ERR_SUCCESS) {
    log()->warn("mqtt link: unsubscribe failed: {}", mosquitto_strerror(rc));
    return std::nullopt;
  }
  return mid;
}

std::optional<int> MqttLink::publish(const std::string& topic, std::string_view payload, int qos,
                                     bool retain) {
  if (state_ != State::kConnected) return std::nullopt;
  if (topic.find('\0') != std::string::npos || payload.size() > INT_MAX) return std::nullopt;
  int mid = 0;
  const int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                                   payload.data(), qos, retain);
  if (rc != MOSQ_ERR_SUCCESS) {
    log()->warn("mqtt link: publish to '{}' failed: {}", modem::printable(topic), mosquitto_strerror(rc));
    return std::nullopt;
  }
  return mid;
}

void MqttLink::disconnect() {
  if (state_ == State::kConnecting || state_ == State::kConnected) {
    // Queued behind whatever is still waiting to be written, so those packets go out first; the
    // connection is closed by libmosquitto once the DISCONNECT is written.
    state_ = State::kClosed;
    if (mosquitto_disconnect(mosq_) == MOSQ_ERR_SUCCESS) {
      disconnect_pending_ = true;
      if (!paused_) mosquitto_loop_write(mosq_, 1);
    }
    release_mosquitto_if_closed();
  } else if (state_ == State::kOpening || state_ == State::kOpen) {
    if (handshake_) handshake_->close_notify();
    close_everything();
    state_ = State::kClosed;
  }
  queued_.clear();
  subacks_.clear();
}

void MqttLink::drop() {
  close_everything();
  if (state_ != State::kIdle) state_ = State::kClosed;
  queued_.clear();
  subacks_.clear();
}

void MqttLink::set_paused(bool paused) {
  if (paused_ == paused) return;
  paused_ = paused;
  // At resume loop_misc runs at once: it notices a keepalive that ran out during the pause.
  if (!paused_) next_misc_ = now();
}

void MqttLink::close_everything() {
  handshake_.reset();
  if (tcp_fd_ >= 0) ::close(tcp_fd_);
  tcp_fd_ = -1;
  candidates_.clear();
  // mosquitto_destroy closes the socket without sending anything.
  if (mosq_ != nullptr) mosquitto_destroy(mosq_);
  mosq_ = nullptr;
  disconnect_pending_ = false;
}

// Called only outside libmosquitto's own calls: destroying it from one of its callbacks would
// pull the structure from under the function that is running.
void MqttLink::release_mosquitto_if_closed() {
  if (mosq_ == nullptr || state_ != State::kClosed) return;
  if (disconnect_pending_ && mosquitto_socket(mosq_) >= 0) return;  // the DISCONNECT is not out yet
  mosquitto_destroy(mosq_);
  mosq_ = nullptr;
  disconnect_pending_ = false;
}

bool MqttLink::mosquitto_active() const {
  return mosq_ != nullptr && mosquitto_socket(mosq_) >= 0;
}

int MqttLink::poll_fd() const {
  if (paused_) return -1;
  if (state_ == State::kOpening || state_ == State::kOpen) return tcp_fd_;
  return mosquitto_active() ? mosquitto_socket(mosq_) : -1;
}

short MqttLink::poll_events() const {
  if (state_ == State::kOpening && handshake_)
    return handshake_->status() == TlsHandshake::Status::kWantRead ? POLLIN : POLLOUT;
  if (state_ == State::kOpening) return POLLOUT;
  if (state_ == State::kOpen) return POLLIN;
  if (disconnect_pending_) return POLLOUT;
  const bool write = mosq_ != nullptr && mosquitto_want_write(mosq_);
  return static_cast<short>(POLLIN | (write ? POLLOUT : 0));
}

std::optional<modem::TimePoint> MqttLink::next_deadline() const {
  if (!queued_.empty()) return kDueNow;
  if (paused_ || disconnect_pending_ || !mosquitto_active()) return std::nullopt;
  return next_misc_;
}

void MqttLink::dispatch(short revents) {
  if (!paused_) {
    if (state_ == State::kOpening && handshake_) {
      if (revents & (POLLIN | POLLOUT | POLLERR | POLLHUP)) step_handshake();
    } else if (state_ == State::kOpening) {
      if (revents & (POLLOUT | POLLERR | POLLHUP)) finish_open();
    } else if (state_ == State::kOpen) {
      if (revents & (POLLIN | POLLERR | POLLHUP)) watch_open_socket();
    } else if (mosq_ != nullptr) {
      pump_mosquitto(revents);
    }
  }
  deliver_queued();  // last: a callback may destroy the link
}

void MqttLink::pump_mosquitto(short revents) {
  if (disconnect_pending_) {
    if ((revents & (POLLOUT | POLLERR | POLLHUP)) && mosquitto_active()) mosquitto_loop_write(mosq_, 1);
    release_mosquitto_if_closed();
    return;
  }
  // Each call is guarded: after libmosquitto closed the socket (and reported it through
  // handle_disconnect) another loop call would report a second disconnect.
  auto live = [this] { return state_ != State::kClosed && mosquitto_active(); };
  if ((revents & (POLLIN | POLLERR | POLLHUP)) && live()) mosquitto_loop_read(mosq_, 1);
  if ((revents & POLLOUT) && live()) mosquitto_loop_write(mosq_, 1);
  const modem::TimePoint t = now();
  if (t >= next_misc_) {
    if (live()) mosquitto_loop_misc(mosq_);
    next_misc_ = t + kMiscInterval;
  }
  if (state_ != State::kClosed && !mosquitto_active()) {
    // libmosquitto closed the socket without a callback; still a lost connection.
    state_ = State::kClosed;
    queue([](const MqttLinkEvents& e) {
      if (e.on_lost) e.on_lost();
    });
  }
  release_mosquitto_if_closed();
}

void MqttLink::queue(Event event) {
  queued_.push_back(std::move(event));
}

void MqttLink::deliver_queued() {
  // Both outlive `this` if a callback destroys the link: the callbacks themselves, and the means
  // to notice that it happened.
  const std::shared_ptr<const MqttLinkEvents> events = events_;
  const std::weak_ptr<char> alive = alive_;
  while (!queued_.empty()) {
    const Event event = std::move(queued_.front());
    queued_.pop_front();
    event(*events);
    if (alive.expired()) return;
  }
}

// libmosquitto's callbacks: they run inside its loop calls, so they only record and queue.

void MqttLink::handle_connect(mosquitto*, void* self, int rc) {
  MqttLink* link = link_of(self);
  if (link->state_ != State::kConnecting) return;
  if (rc == 0) {
    link->state_ = State::kConnected;
  } else {
    // The broker closes the connection after a refusal: that close is part of the refusal, not
    // a lost connection, so kClosed now makes handle_disconnect ignore it.
    log()->info("mqtt link: CONNACK refused: {}", mosquitto_connack_string(rc));
    link->state_ = State::kClosed;
  }
  link->queue([rc](const MqttLinkEvents& e) {
    if (e.on_connack) e.on_connack(rc);
  });
}

void MqttLink::handle_disconnect(mosquitto*, void* self, int rc) {
  MqttLink* link = link_of(self);
  if (link->state_ == State::kClosed) return;  // asked for, or after a refused CONNACK
  log()->info("mqtt link: connection lost: {}", mosquitto_strerror(rc));
  link->state_ = State::kClosed;
  link->subacks_.clear();
  link->queue([](const MqttLinkEvents& e) {
    if (e.on_lost) e.on_lost();
  });
}

void MqttLink::handle_publish(mosquitto*, void* self, int mid) {
  MqttLink* link = link_of(self);
  if (link->state_ == State::kClosed) return;
  link->queue([mid](const MqttLinkEvents& e) {
    if (e.on_published) e.on_published(mid);
  });
}

void MqttLink::handle_subscribe(mosquitto*, void* self, int mid, int count, const int* granted) {
  MqttLink* link = link_of(self);
  if (link->state_ == State::kClosed) return;
  for (auto it = link->subacks_.begin(); it != link->subacks_.end(); ++it) {
    auto part = it->parts.find(mid);
    if (part == it->parts.end()) continue;
    const std::vector<std::size_t>& indexes = part->second;
    for (std::size_t i = 0; i < indexes.size() && i < static_cast<std::size_t>(count); ++i)
      it->granted[indexes[i]] = granted[i];
    it->parts.erase(part);
    if (it->parts.empty()) {
      link->queue([reported = it->reported_mid, all = std::move(it->granted)](const MqttLinkEvents& e) {
        if (e.on_suback) e.on_suback(reported, all);
      });
      link->subacks_.erase(it);
    }
    return;
  }
  log()->warn("mqtt link: SUBACK for unknown message id {}", mid);
}

void MqttLink::handle_unsubscribe(mosquitto*, void* self, int mid) {
  MqttLink* link = link_of(self);
  if (link->state_ == State::kClosed) return;
  link->queue([mid](const MqttLinkEvents& e) {
    if (e.on_unsuback) e.on_unsuback(mid);
  });
}

void MqttLink::handle_message(mosquitto*, void* self, const mosquitto_message* message) {
  MqttLink* link = link_of(self);
  if (link->state_ == State::kClosed) return;
  MqttMessage copy{
      message->mid,
      message->topic != nullptr ? message->topic : "",
      message->payloadlen > 0 ? std::string(static_cast<const char*>(message->payload),
                                            static_cast<std::size_t>(message->payloadlen))
                              : std::string(),
      message->qos,
      message->retain,
  };
  link->queue([copy = std::move(copy)](const MqttLinkEvents& e) {
    if (e.on_message) e.on_message(copy);
  });
}

}  // namespace modemsim
