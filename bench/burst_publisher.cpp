#include "burst_publisher.hpp"

#include <mosquitto.h>

#include <stdexcept>

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kWindow = 1000;
constexpr auto kHangGuard = std::chrono::minutes(5);

struct Counter {
  std::size_t acknowledged = 0;
  bool connected = false;
  bool failed = false;
};

void check(int rc, const char* what) {
  if (rc != MOSQ_ERR_SUCCESS) throw std::runtime_error(std::string(what) + ": " + mosquitto_strerror(rc));
}

}  // namespace

BurstResult publish_burst(int port, const std::vector<OutgoingMessage>& messages, int qos) {
  static const int initialised = mosquitto_lib_init();
  (void)initialised;
  Counter counter;
  mosquitto* mosq = mosquitto_new(nullptr, true, &counter);
  if (mosq == nullptr) throw std::runtime_error("mosquitto_new failed");
  struct Destroy {
    mosquitto* m;
    ~Destroy() { mosquitto_destroy(m); }
  } destroy{mosq};
  mosquitto_max_inflight_messages_set(mosq, kWindow);
  mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_connect_callback_set(mosq, [](mosquitto*, void* self, int rc) {
    auto* c = static_cast<Counter*>(self);
    c->connected = rc == 0;
    c->failed = rc != 0;
  });
  mosquitto_publish_callback_set(
      mosq, [](mosquitto*, void* self, int) { ++static_cast<Counter*>(self)->acknowledged; });
  check(mosquitto_connect(mosq, "127.0.0.1", port, 60), "burst publisher connect");
  const auto guard = Clock::now() + kHangGuard;
  while (!counter.connected) {
    if (counter.failed || Clock::now() > guard) throw std::runtime_error("burst publisher: no CONNACK");
    check(mosquitto_loop(mosq, 50, 1), "burst publisher");
  }

  BurstResult result;
  result.started = Clock::now();
  std::size_t sent = 0;
  while (counter.acknowledged < messages.size()) {
    // libmosquitto holds what is beyond its in-flight window in its own queue; keeping our side
    // to the same window bounds that queue.
    while (sent < messages.size() && sent - counter.acknowledged < kWindow) {
      const OutgoingMessage& m = messages[sent++];
      check(mosquitto_publish(mosq, nullptr, m.topic.c_str(), static_cast<int>(m.payload.size()),
                              m.payload.data(), qos, false),
            "burst publish");
    }
    if (Clock::now() > guard) throw std::runtime_error("burst publisher: the broker stopped acknowledging");
    check(mosquitto_loop(mosq, 10, 1), "burst publisher");
  }
  result.finished = Clock::now();
  result.acknowledged = counter.acknowledged;
  mosquitto_disconnect(mosq);
  return result;
}

}  // namespace bench
