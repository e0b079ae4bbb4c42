// Bridge rules: mosquitto.conf(5) "topic pattern [[[ out | in | both ] qos-level] local-prefix
// remote-prefix]". The local side subscribes to local_prefix+pattern and the remote side to
// remote_prefix+pattern; a matching message has its one prefix replaced by the other.
#include "bridge_rules.hpp"

#include <algorithm>
#include <cstddef>

namespace cellmqttd {
namespace {

// One '/'-separated level at a time: [begin, end) of the level that starts at `begin`.
std::size_t level_end(std::string_view s, std::size_t begin) {
  return std::min(s.find('/', begin), s.size());
}

// MQTT 3.1.1 §4.7.1.2/§4.7.1.3: '#' only as the whole last level, '+' only as a whole level;
// §4.7.3: at least one character. A broker closes the connection on a SUBSCRIBE with anything
// else, so such a filter can neither be subscribed to nor match.
bool valid_filter(std::string_view filter) {
  if (filter.empty()) return false;
  for (std::size_t begin = 0;;) {
    const std::size_t end = level_end(filter, begin);
    const std::string_view level = filter.substr(begin, end - begin);
    if (level.find('#') != std::string_view::npos && (level != "#" || end != filter.size())) return false;
    if (level.find('+') != std::string_view::npos && level != "+") return false;
    if (end == filter.size()) return true;
    begin = end + 1;
  }
}

bool applies_out(Direction d) {
  return d == Direction::kOut || d == Direction::kBoth;
}
bool applies_in(Direction d) {
  return d == Direction::kIn || d == Direction::kBoth;
}

// The first rule (configuration order, as mosquitto walks its topic list) for which `topic` is
// <from_prefix><X> with the whole topic matching <from_prefix><pattern>; the result is <to_prefix><X>.
template <typename Applies, typename From, typename To>
std::optional<Routed> route(const std::vector<BridgeRule>& rules, std::string_view topic, Applies applies,
                            From from_prefix, To to_prefix) {
  for (const BridgeRule& rule : rules) {
    if (!applies(rule.direction)) continue;
    const std::string& from = from_prefix(rule);
    // The whole topic is matched against the subscription, not X against the pattern: that is what
    // the broker delivered on, and it keeps the '$' rule (§4.7.2) about the real first level.
    if (!topic_matches(from + rule.topic, topic)) continue;
    // "a/#" also matches "a" (§4.7.1.2), and a prefix holding a wildcard would match topics that do
    // not carry it: such a topic is not <from><X>, so this rule cannot map it.
    if (!topic.starts_with(from)) continue;
    std::string mapped = to_prefix(rule);
    mapped.append(topic.substr(from.size()));
    // "a/" under "a/#" with an empty other prefix would leave nothing to publish on (§4.7.3).
    if (mapped.empty()) continue;
    return Routed{std::move(mapped), rule.qos};
  }
  return std::nullopt;
}

template <typename Applies, typename Prefix>
std::vector<std::pair<std::string, int>> subscriptions(const std::vector<BridgeRule>& rules, Applies applies,
                                                       Prefix prefix) {
  std::vector<std::pair<std::string, int>> result;
  for (const BridgeRule& rule : rules) {
    if (!applies(rule.direction)) continue;
    std::string filter = prefix(rule) + rule.topic;
    // An invalid filter would get the whole connection closed (§4.8) and can never match;
    // rejecting it with a message is the configuration's job, not this list's.
    if (!valid_filter(filter)) continue;
    // A second SUBSCRIBE to the same filter replaces the first (§3.8.4), so the list holds each
    // filter once, with the QoS of the first rule, the one outbound()/inbound() pick too.
    const bool seen = std::any_of(result.begin(), result.end(),
                                  [&](const std::pair<std::string, int>& s) { return s.first == filter; });
    if (!seen) result.emplace_back(std::move(filter), rule.qos);
  }
  return result;
}

const std::string& local_prefix_of(const BridgeRule& r) {
  return r.local_prefix;
}
const std::string& remote_prefix_of(const BridgeRule& r) {
  return r.remote_prefix;
}

}  // namespace

bool topic_matches(std::string_view filter, std::string_view topic) {
  // §4.7.3: topic names are at least one character; §4.7.1: they hold no wildcards.
  if (topic.empty() || topic.find_first_of("+#") != std::string_view::npos) return false;
  if (!valid_filter(filter)) return false;
  // §4.7.2: a filter starting with a wildcard does not match a topic starting with '$' ("#" does
  // not deliver $SYS/...), though "$SYS/#" does.
  if (topic.front() == '$' && (filter.front() == '+' || filter.front() == '#')) return false;

  std::size_t filter_begin = 0;
  std::size_t topic_begin = 0;
  bool topic_done = false;  // every level of the topic has been consumed
  for (;;) {
    const std::size_t filter_end = level_end(filter, filter_begin);
    const std::string_view filter_level = filter.substr(filter_begin, filter_end - filter_begin);
    // §4.7.1.2: '#' matches the remaining levels, including none: "sport/#" matches "sport".
    if (filter_level == "#") return true;
    if (topic_done) return false;
    const std::size_t topic_end = level_end(topic, topic_begin);
    const std::string_view topic_level = topic.substr(topic_begin, topic_end - topic_begin);
    // §4.7.1.3: '+' matches exactly one level, an empty one too ("a/+/c" matches "a//c").
    if (filter_level != "+" && filter_level != topic_level) return false;
    if (filter_end == filter.size()) return topic_end == topic.size();
    filter_begin = filter_end + 1;
    if (topic_end == topic.size()) {
      topic_done = true;
    } else {
      topic_begin = topic_end + 1;
    }
  }
}

BridgeRules::BridgeRules(std::vector<BridgeRule> rules) : rules_(std::move(rules)) {}

std::optional<Routed> BridgeRules::outbound(std::string_view local_topic) const {
  return route(rules_, local_topic, applies_out, local_prefix_of, remote_prefix_of);
}

std::optional<Routed> BridgeRules::inbound(std::string_view remote_topic) const {
  return route(rules_, remote_topic, applies_in, remote_prefix_of, local_prefix_of);
}

std::vector<std::pair<std::string, int>> BridgeRules::local_subscriptions() const {
  return subscriptions(rules_, applies_out, local_prefix_of);
}

std::vector<std::pair<std::string, int>> BridgeRules::remote_subscriptions() const {
  return subscriptions(rules_, applies_in, remote_prefix_of);
}

}  // namespace cellmqttd
