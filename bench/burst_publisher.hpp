// A local application in a hurry: publishes a list of messages to a broker as fast as the broker
// takes them, keeping up to a thousand QoS 1 publishes unacknowledged (a client that waited for
// each PUBACK would measure its own round trips instead of the daemon).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace bench {

struct OutgoingMessage {
  std::string topic;
  std::string payload;
};

struct BurstResult {
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point finished;  // the last PUBACK (QoS 0: the last write)
  std::size_t acknowledged = 0;
};

// Connects to 127.0.0.1:port, publishes every message with `qos` in order, and returns once the
// broker has acknowledged all of them. Throws std::runtime_error on a connection failure.
BurstResult publish_burst(int port, const std::vector<OutgoingMessage>& messages, int qos);

}  // namespace bench
