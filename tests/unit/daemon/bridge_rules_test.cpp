// Bridge rules against the MQTT 3.1.1 §4.7 examples and mosquitto.conf(5)'s "topic" line: prefix
// swapping both ways, direction filtering, first match wins, the subscription lists, and topics a
// broker would never deliver (which must give nullopt, not a crash or a mangled topic).
#include "bridge_rules.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cellmqttd {
namespace {

BridgeRule rule(std::string topic, Direction direction, int qos = 1, std::string local_prefix = "",
                std::string remote_prefix = "") {
  return BridgeRule{std::move(topic), direction, qos, std::move(local_prefix), std::move(remote_prefix)};
}

using Subscriptions = std::vector<std::pair<std::string, int>>;

// ---- topic_matches -------------------------------------------------------------------------------

struct MatchCase {
  const char* filter;
  const char* topic;
  bool expected;
};

TEST(TopicMatches, Table) {
  const std::vector<MatchCase> cases = {
      // §4.7.1.2 non-normative examples: '#' includes the parent level
      {"sport/tennis/player1/#", "sport/tennis/player1", true},
      {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
      {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
      {"sport/tennis/player1/#", "sport/tennis/player2", false},
      {"sport/tennis/player1/#", "sport/tennis", false},
      {"sport/#", "sport", true},
      {"#", "sport/tennis", true},
      {"#", "/", true},
      {"a/#", "a/", true},  // the empty level below "a"
      {"a/#", "ab", false},
      // §4.7.1.3 non-normative examples: '+' is exactly one level, possibly empty
      {"sport/tennis/+", "sport/tennis/player1", true},
      {"sport/tennis/+", "sport/tennis/player1/ranking", false},
      {"sport/+", "sport", false},
      {"sport/+", "sport/", true},
      {"+/+", "/finance", true},
      {"/+", "/finance", true},
      {"+", "/finance", false},
      {"a/+/c", "a//c", true},
      {"a/+/c", "a/b/c", true},
      {"a/+/c", "a/b/d", false},
      {"+/tennis/#", "sport/tennis/player1", true},
      // exact filters: levels are compared whole, trailing and leading '/' are levels (§4.7.3)
      {"a/b", "a/b", true},
      {"a/b", "a/b/", false},
      {"a/b/", "a/b", false},
      {"a/b", "a/bc", false},
      {"a", "A", false},  // case-sensitive (§4.7.3)
      // §4.7.2: no wildcard-first filter matches a '$' topic; an explicit "$SYS/..." does
      {"#", "$SYS/broker/uptime", false},
      {"+/broker/uptime", "$SYS/broker/uptime", false},
      {"+/monitor/Clients", "$SYS/monitor/Clients", false},
      {"$SYS/#", "$SYS/broker/uptime", true},
      {"$SYS/#", "$SYS", true},
      {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
      {"a/#", "a/$b", true},  // only a '$' first level is special
      // malformed filters (§4.7.1.2, §4.7.1.3, §4.7.3) and topic names (§4.7.1, §4.7.3) never match
      {"sport/tennis#", "sport/tennis", false},
      {"sport/tennis#", "sport/tennis#", false},
      {"sport/#/ranking", "sport/x/ranking", false},
      {"sport+", "sport+", false},
      {"sport+", "sportx", false},
      {"a/+b", "a/xb", false},
      {"", "", false},
      {"", "a", false},
      {"#", "", false},
      {"a/+", "a/+", false},
      {"a/#", "a/#", false},
  };
  for (const MatchCase& c : cases) {
    EXPECT_EQ(topic_matches(c.filter, c.topic), c.expected)
        << '"' << c.filter << "\" vs \"" << c.topic << '"';
  }
}

// ---- outbound / inbound --------------------------------------------------------------------------

struct RouteCase {
  const char* topic;
  std::optional<std::string> expected;
};

void expect_routes(const BridgeRules& rules, bool out, const std::vector<RouteCase>& cases) {
  for (const RouteCase& c : cases) {
    const std::optional<Routed> r = out ? rules.outbound(c.topic) : rules.inbound(c.topic);
    ASSERT_EQ(r.has_value(), c.expected.has_value()) << (out ? "out " : "in ") << c.topic;
    if (r) {
      EXPECT_EQ(r->topic, *c.expected) << (out ? "out " : "in ") << c.topic;
    }
  }
}

TEST(BridgeRules, OutboundSwapsLocalPrefixForRemotePrefix) {
  // mosquitto.conf(5): "topic # out 1 local/ remote/" sends local/X as remote/X
  const BridgeRules rules({rule("sensors/#", Direction::kOut, 1, "site/", "fleet/dev42/")});
  expect_routes(rules, true,
                {
                    {"site/sensors/temp", "fleet/dev42/sensors/temp"},
                    {"site/sensors", "fleet/dev42/sensors"},  // '#' includes the parent level
                    {"site/sensors/a/b/c", "fleet/dev42/sensors/a/b/c"},
                    {"sensors/temp", std::nullopt},  // the local prefix is required
                    {"fleet/dev42/sensors/temp", std::nullopt},
                    {"site/other", std::nullopt},
                });
  // an out rule does not bring anything down
  expect_routes(rules, false, {{"fleet/dev42/sensors/temp", std::nullopt}});
}

TEST(BridgeRules, InboundSwapsRemotePrefixForLocalPrefix) {
  const BridgeRules rules({rule("cmd/+", Direction::kIn, 2, "site/", "fleet/dev42/")});
  expect_routes(rules, false,
                {
                    {"fleet/dev42/cmd/reboot", "site/cmd/reboot"},
                    {"fleet/dev42/cmd/", "site/cmd/"},  // '+' matches an empty level
                    {"fleet/dev42/cmd/reboot/now", std::nullopt},
                    {"site/cmd/reboot", std::nullopt},
                    {"cmd/reboot", std::nullopt},
                });
  expect_routes(rules, true, {{"site/cmd/reboot", std::nullopt}});
  EXPECT_EQ(rules.inbound("fleet/dev42/cmd/reboot")->qos, 2);
}

TEST(BridgeRules, EmptyPrefixesKeepTheTopic) {
  const BridgeRules rules({rule("a/#", Direction::kBoth)});
  expect_routes(rules, true, {{"a/b", "a/b"}, {"a", "a"}, {"b", std::nullopt}});
  expect_routes(rules, false, {{"a/b", "a/b"}, {"a", "a"}, {"b", std::nullopt}});
}

TEST(BridgeRules, OnlyOnePrefixSet) {
  // adding a prefix on one side and removing it on the other
  const BridgeRules rules({rule("#", Direction::kBoth, 1, "", "dev42/")});
  expect_routes(rules, true, {{"a/b", "dev42/a/b"}, {"/a", "dev42//a"}});
  expect_routes(rules, false, {{"dev42/a/b", "a/b"}, {"dev42/", std::nullopt}, {"a/b", std::nullopt}});
}

TEST(BridgeRules, WildcardsMatchParentAndEmptyLevels) {
  const BridgeRules rules(
      {rule("a/+/c", Direction::kOut, 1, "l/", "r/"), rule("x/#", Direction::kOut, 1, "l/", "r/")});
  expect_routes(rules, true,
                {
                    {"l/a//c", "r/a//c"},
                    {"l/a/b/c", "r/a/b/c"},
                    {"l/x", "r/x"},
                    {"l/x/", "r/x/"},
                    {"l/a/c", std::nullopt},
                });
}

TEST(BridgeRules, DollarTopicsOnlyThroughAnExplicitDollarPattern) {
  const BridgeRules wildcard_first({rule("#", Direction::kBoth), rule("+/broker/uptime", Direction::kBoth)});
  expect_routes(wildcard_first, true,
                {{"$SYS/broker/uptime", std::nullopt}, {"a/broker/uptime", "a/broker/uptime"}});
  expect_routes(wildcard_first, false, {{"$SYS/broker/uptime", std::nullopt}});

  const BridgeRules explicit_sys({rule("$SYS/#", Direction::kOut, 0, "", "dev42/")});
  expect_routes(explicit_sys, true, {{"$SYS/broker/uptime", "dev42/$SYS/broker/uptime"}});

  // the '$' rule is about the topic's first level, which here is the prefix's
  const BridgeRules prefixed({rule("#", Direction::kOut, 1, "site/", "")});
  expect_routes(prefixed, true, {{"site/$x", "$x"}, {"$SYS/x", std::nullopt}});
}

TEST(BridgeRules, ExactTopicMappingWithEmptyPattern) {
  // mosquitto.conf(5): topic "" out 1 local/topic remote/topic maps that one topic
  const BridgeRules rules({rule("", Direction::kBoth, 1, "local/topic", "remote/topic")});
  expect_routes(rules, true,
                {
                    {"local/topic", "remote/topic"},
                    {"local/topic/sub", std::nullopt},
                    {"local/topicx", std::nullopt},
                    {"local", std::nullopt},
                });
  expect_routes(rules, false, {{"remote/topic", "local/topic"}, {"remote/topic/sub", std::nullopt}});
  EXPECT_EQ(rules.local_subscriptions(), (Subscriptions{{"local/topic", 1}}));
  EXPECT_EQ(rules.remote_subscriptions(), (Subscriptions{{"remote/topic", 1}}));
}

TEST(BridgeRules, MatchWithoutThePrefixIsNotMapped) {
  // "l/#" matches "l" (the parent level) but "l" is not "l/"+X: nothing to strip. A broker would
  // deliver it; the rule must decline rather than cut into the topic.
  const BridgeRules parent({rule("#", Direction::kBoth, 1, "l/", "r/")});
  EXPECT_EQ(parent.outbound("l"), std::nullopt);
  EXPECT_EQ(parent.inbound("r"), std::nullopt);

  // A prefix holding a wildcard (which the configuration rejects, as mosquitto does) makes a
  // subscription that matches topics not starting with the prefix; a broker never sends those here.
  const BridgeRules wild({rule("x", Direction::kBoth, 1, "+/", "#/")});
  EXPECT_EQ(wild.outbound("a/x"), std::nullopt);
  EXPECT_EQ(wild.outbound("+/x"), std::nullopt);
  EXPECT_EQ(wild.inbound("a/x"), std::nullopt);

  // such a topic falls through to the next rule instead
  const BridgeRules fallthrough(
      {rule("#", Direction::kOut, 1, "l/", "r/"), rule("l", Direction::kOut, 0, "", "up/")});
  const auto r = fallthrough.outbound("l");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->topic, "up/l");
  EXPECT_EQ(r->qos, 0);
}

TEST(BridgeRules, NeverProducesAnEmptyTopic) {
  // "l/" is "l/"+"" and matches "l/#"; with an empty remote prefix there is nothing to publish on
  const BridgeRules rules({rule("#", Direction::kOut, 1, "l/", "")});
  EXPECT_EQ(rules.outbound("l/"), std::nullopt);
  ASSERT_TRUE(rules.outbound("l/a").has_value());
  EXPECT_EQ(rules.outbound("l/a")->topic, "a");
}

TEST(BridgeRules, DirectionFiltering) {
  // Both rules match "a/b"; each direction takes the first rule of its own kind.
  const BridgeRules rules({
      rule("a/#", Direction::kIn, 2, "from_cloud/", ""),
      rule("a/#", Direction::kOut, 0, "", "to_cloud/"),
  });
  auto out = rules.outbound("a/b");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->topic, "to_cloud/a/b");
  EXPECT_EQ(out->qos, 0);
  auto in = rules.inbound("a/b");
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->topic, "from_cloud/a/b");
  EXPECT_EQ(in->qos, 2);

  const BridgeRules in_only({rule("#", Direction::kIn)});
  EXPECT_EQ(in_only.outbound("a"), std::nullopt);
  EXPECT_TRUE(in_only.inbound("a").has_value());
  const BridgeRules out_only({rule("#", Direction::kOut)});
  EXPECT_EQ(out_only.inbound("a"), std::nullopt);
  EXPECT_TRUE(out_only.outbound("a").has_value());
  const BridgeRules none;
  EXPECT_EQ(none.outbound("a"), std::nullopt);
  EXPECT_EQ(none.inbound("a"), std::nullopt);
}

TEST(BridgeRules, FirstMatchingRuleWinsInConfigurationOrder) {
  const BridgeRule broad = rule("#", Direction::kBoth, 0, "", "broad/");
  const BridgeRule narrow = rule("a/b", Direction::kBoth, 2, "", "narrow/");
  const BridgeRules broad_first({broad, narrow});
  const BridgeRules narrow_first({narrow, broad});

  // order, not specificity, decides; the QoS is the chosen rule's
  auto r = broad_first.outbound("a/b");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->topic, "broad/a/b");
  EXPECT_EQ(r->qos, 0);
  r = narrow_first.outbound("a/b");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->topic, "narrow/a/b");
  EXPECT_EQ(r->qos, 2);
  r = narrow_first.outbound("a/c");  // not the first rule's: the next one takes it
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->topic, "broad/a/c");
  EXPECT_EQ(r->qos, 0);

  r = broad_first.inbound("narrow/a/b");  // the first rule (remote "broad/#") does not match
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->topic, "a/b");
  EXPECT_EQ(r->qos, 2);
  r = narrow_first.inbound("broad/a/b");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->topic, "a/b");
  EXPECT_EQ(r->qos, 0);
}

TEST(BridgeRules, QosComesFromTheRule) {
  for (int qos : {0, 1, 2}) {
    const BridgeRules rules({rule("t", Direction::kBoth, qos)});
    ASSERT_TRUE(rules.outbound("t").has_value());
    EXPECT_EQ(rules.outbound("t")->qos, qos);
    ASSERT_TRUE(rules.inbound("t").has_value());
    EXPECT_EQ(rules.inbound("t")->qos, qos);
  }
}

// ---- subscriptions -------------------------------------------------------------------------------

TEST(BridgeRules, SubscriptionsFollowDirectionAndPrefixes) {
  const BridgeRules rules({
      rule("sensors/#", Direction::kOut, 1, "site/", "fleet/dev42/"),
      rule("cmd/+", Direction::kIn, 2, "site/", "fleet/dev42/"),
      rule("config", Direction::kBoth, 0, "local/", "remote/"),
      rule("$SYS/broker/load/#", Direction::kOut, 0),
  });
  // out and both on the local broker, each <local_prefix><pattern>, in configuration order
  EXPECT_EQ(rules.local_subscriptions(),
            (Subscriptions{{"site/sensors/#", 1}, {"local/config", 0}, {"$SYS/broker/load/#", 0}}));
  // in and both upstream, each <remote_prefix><pattern>
  EXPECT_EQ(rules.remote_subscriptions(), (Subscriptions{{"fleet/dev42/cmd/+", 2}, {"remote/config", 0}}));
}

TEST(BridgeRules, DuplicateSubscriptionsKeepTheFirst) {
  const BridgeRules rules({
      rule("a/#", Direction::kOut, 0, "", "x/"),
      rule("#", Direction::kOut, 2, "a/", "y/"),  // the same local filter "a/#"
      rule("b", Direction::kBoth, 1), rule("b", Direction::kIn, 2),
      rule("a/#", Direction::kIn, 1, "", "z/"),  // local filter "a/#" again, but an in rule
  });
  EXPECT_EQ(rules.local_subscriptions(), (Subscriptions{{"a/#", 0}, {"b", 1}}));
  EXPECT_EQ(rules.remote_subscriptions(), (Subscriptions{{"b", 1}, {"z/a/#", 1}}));
}

TEST(BridgeRules, SubscriptionsLeaveOutFiltersNoBrokerAccepts) {
  const BridgeRules rules({
      rule("", Direction::kBoth),                // empty pattern without prefixes: empty filter
      rule("#", Direction::kBoth, 1, "a", "b"),  // "a#": '#' not a whole level
      rule("ok", Direction::kBoth),
  });
  EXPECT_EQ(rules.local_subscriptions(), (Subscriptions{{"ok", 1}}));
  EXPECT_EQ(rules.remote_subscriptions(), (Subscriptions{{"ok", 1}}));
}

TEST(BridgeRules, KeepsTheRules) {
  const BridgeRules rules({rule("a", Direction::kIn, 2, "l/", "r/")});
  ASSERT_EQ(rules.rules().size(), 1u);
  EXPECT_EQ(rules.rules()[0].topic, "a");
  EXPECT_EQ(rules.rules()[0].direction, Direction::kIn);
  EXPECT_EQ(rules.rules()[0].local_prefix, "l/");
  EXPECT_EQ(rules.rules()[0].remote_prefix, "r/");
}

}  // namespace
}  // namespace cellmqttd
