// Bridge rules with the semantics of mosquitto's bridge "topic" lines, so users who know those
// know these: a local message on <local_prefix><X>, where X matches <pattern>, goes upstream as
// <remote_prefix><X> (direction out or both), and an upstream message on <remote_prefix><X> comes
// down as <local_prefix><X> (in or both). Pure functions, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"

namespace cellmqttd {

// MQTT 3.1.1 §4.7 matching of a topic name against a filter with + and #; topics starting with
// '$' are not matched by a filter starting with a wildcard (§4.7.2).
bool topic_matches(std::string_view filter, std::string_view topic);

struct Routed {
  std::string topic;
  int qos;
};

class BridgeRules {
 public:
  BridgeRules() = default;
  explicit BridgeRules(std::vector<BridgeRule> rules);

  // The first out/both rule (in configuration order) that matches `local_topic`.
  std::optional<Routed> outbound(std::string_view local_topic) const;
  // The first in/both rule that matches `remote_topic`.
  std::optional<Routed> inbound(std::string_view remote_topic) const;
  // What to subscribe to on the local broker (out and both rules), and upstream (in and both),
  // each <prefix><pattern> with the rule's QoS, without duplicates.
  std::vector<std::pair<std::string, int>> local_subscriptions() const;
  std::vector<std::pair<std::string, int>> remote_subscriptions() const;

  const std::vector<BridgeRule>& rules() const { return rules_; }

 private:
  std::vector<BridgeRule> rules_;
};

}  // namespace cellmqttd
