// cellmqttd end to end, as users run it: the real binary between a real local mosquitto and a
// real "upstream" mosquitto, modemsim as its cellular module (whose MQTT connections really go to
// the upstream broker), faults injected through modemsim's control socket, signals and broker
// restarts. Every assertion is about data: each message is accounted for, byte for byte.
//
// How "lost" is kept meaning "lost by the daemon": both brokers run with persistence (as Debian's
// mosquitto.conf does) and no queue limit, and the test's own subscribers keep persistent sessions,
// so a message a broker has accepted survives that broker's restart and the subscriber's absence.
// Before a test publishes, it waits for the daemon's retained "<status>/state" = "1" (or its status
// document): the daemon publishes those after subscribing on the same connection, so its
// subscriptions are in place by then.
#include "daemon_e2e.hpp"
#include "support/test_pki.hpp"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
using namespace std::string_literals;

// ---- bridging ----------------------------------------------------------------------------------

TEST_F(DaemonE2E, BridgesBothDirectionsWithPrefixesByteExact) {
  MqttTestClient cloud;  // sees everything upstream
  cloud.connect(upstream_.port(), "cloud-watch");
  cloud.subscribe("#", 1);
  MqttTestClient app;  // sees everything local
  app.connect(local_.port(), "local-watch");
  app.subscribe("#", 1);

  start_daemon(settings({
      {"sensors/#", "out", 1, "site/", "gw1/up/"},
      {"cmd/#", "in", 1, "local/", "gw1/down/"},
      {"chat/#", "both", 1, "", "gw1/"},
  }));
  watch_status();
  ASSERT_TRUE(wait_state("1")) << "the session never became ready";

  // Payloads with what an AT line or a naive parser would split on: quotes, commas, CR LF, NUL,
  // and text that looks like the module's own result codes and URCs.
  const std::string csv = R"({"t":"a,b","q":"x\"y"},"tail",)";
  const std::string crlf_nul = "line1\r\nline2\0after NUL,\"quoted\"\r\n"s;
  const std::string retained = "retained \"value\", kept";
  const std::string command = "do \"this\", then\r\nOK\r\n+QMTSTAT: 0,1\r\n\0end"s;
  const std::string chat_local = "from the gateway,\r\n\"hi\"\0"s;
  const std::string chat_remote = "from the cloud,\r\n\"hello\"\0!"s;

  MqttTestClient pub;
  pub.connect(local_.port(), "local-app");
  pub.publish("site/sensors/csv", csv, 1);
  pub.publish("site/sensors/crlf", crlf_nul, 1);
  pub.publish("site/sensors/state", retained, 1, /*retain=*/true);
  pub.publish("elsewhere/x", "no rule takes this", 1);
  pub.publish("chat/local", chat_local, 1);

  MqttTestClient cloud_pub;
  cloud_pub.connect(upstream_.port(), "cloud-app");
  cloud_pub.publish("gw1/down/cmd/run", command, 1);
  cloud_pub.publish("gw1/chat/remote", chat_remote, 1);

  // Everything each side should see; then a last message each way. The daemon keeps order in each
  // direction, so once a last message has arrived, anything the earlier ones caused (a copy sent
  // back up by the "both" rule, say) would have arrived before it.
  ASSERT_TRUE(wait_for_topic(app, "local/cmd/run")) << describe(app.messages());
  ASSERT_TRUE(wait_for_topic(app, "chat/remote")) << describe(app.messages());
  ASSERT_TRUE(wait_for_topic(cloud, "gw1/chat/local")) << describe(cloud.messages());
  pub.publish("site/sensors/last", "last up", 1);
  ASSERT_TRUE(wait_for_topic(cloud, "gw1/up/sensors/last")) << describe(cloud.messages());
  cloud_pub.publish("gw1/down/cmd/last", "last down", 1);
  ASSERT_TRUE(wait_for_topic(app, "local/cmd/last")) << describe(app.messages());
  ASSERT_TRUE(wait_for_topic(cloud, "gw1/down/cmd/last")) << describe(cloud.messages());

  // Upstream: each local message once, under its remote name, byte-exact, at the rule's QoS; the
  // unrouted one never; the cloud's own "chat" message once (it was not bounced back up).
  using Expected = std::vector<std::pair<std::string, std::string>>;
  const Expected up = {
      {"gw1/up/sensors/csv", csv},        {"gw1/up/sensors/crlf", crlf_nul},
      {"gw1/up/sensors/state", retained}, {"gw1/chat/local", chat_local},
      {"gw1/up/sensors/last", "last up"}, {"gw1/down/cmd/run", command},
      {"gw1/chat/remote", chat_remote},   {"gw1/down/cmd/last", "last down"},
  };
  EXPECT_EQ(cloud.messages().size(), up.size()) << describe(cloud.messages());
  for (const auto& [topic, payload] : up)
    EXPECT_EQ(count_of(cloud.messages(), topic, payload), 1) << topic << "\n" << describe(cloud.messages());
  for (const auto& m : cloud.messages())
    EXPECT_EQ(m.qos, 1) << m.topic;

  // Local: the app's own messages, each command once under its local name, the cloud's chat message
  // once. The gateway's chat message shows up twice: the app's own publish, and the upstream
  // broker's echo of it through the module's subscription to gw1/chat/# (MQTT 3.1.1, which the
  // module speaks, has no no-local option). It is not sent up again: upstream saw it once.
  std::vector<ReceivedMessage> local_seen;
  for (const auto& m : app.messages()) {
    if (!m.topic.starts_with(status_topic_)) local_seen.push_back(m);
  }
  const Expected down = {
      {"site/sensors/csv", csv},        {"site/sensors/crlf", crlf_nul},
      {"site/sensors/state", retained}, {"elsewhere/x", "no rule takes this"},
      {"chat/local", chat_local},       {"chat/local", chat_local},
      {"site/sensors/last", "last up"}, {"local/cmd/run", command},
      {"chat/remote", chat_remote},     {"local/cmd/last", "last down"},
  };
  EXPECT_EQ(local_seen.size(), down.size()) << describe(local_seen);
  for (const auto& [topic, payload] : down) {
    const int expected = static_cast<int>(
        std::count(down.begin(), down.end(), std::pair<std::string, std::string>{topic, payload}));
    EXPECT_EQ(count_of(local_seen, topic, payload), expected) << topic << "\n" << describe(local_seen);
  }

  // The retain flag went up with the message: a subscriber arriving later gets it as retained, and
  // nothing else under gw1/up/ is retained.
  MqttTestClient late;
  late.connect(upstream_.port(), "cloud-late");
  late.subscribe("gw1/up/#", 1);
  late.publish("gw1/up/zz-after-retained", "marker", 1);  // the broker sends retained ones first
  ASSERT_TRUE(wait_for_topic(late, "gw1/up/zz-after-retained"));
  ASSERT_EQ(late.messages().size(), 2u) << describe(late.messages());
  EXPECT_EQ(late.messages()[0].topic, "gw1/up/sensors/state");
  EXPECT_EQ(late.messages()[0].payload, retained);
  EXPECT_TRUE(late.messages()[0].retain);
}

// ---- 10,000 messages through every fault -------------------------------------------------------

TEST_F(DaemonE2E, TenThousandMessagesThroughLinkDropsPdpLossRebootAndBrokerRestart) {
  constexpr int kCount = 10'000;
  constexpr int kAhead = 1000;  // published locally but not yet seen upstream, at most
  auto s = settings({{"seq/#", "out", 1, "", "fleet/gw1/"}});
  s.status_interval_s = 1;  // the spool depth in the status document, for the end
  MqttTestClient cloud;
  // Persistent, so the upstream restart loses nothing on the test's side either.
  cloud.connect(upstream_.port(), "cloud-seq", std::nullopt, std::nullopt, /*clean_session=*/false);
  cloud.subscribe("fleet/gw1/#", 1);
  start_daemon(s);
  watch_status();
  ASSERT_TRUE(wait_state("1"));

  struct Fault {
    int after;  // upstream arrivals
    std::string what;
    bool done = false;
    Clock::time_point at{};
    double outage_s = 0;  // the longest wait for the next arrival, until the next fault
  };
  std::vector<Fault> faults;
  for (const auto& [after, what] :
       std::vector<std::pair<int, std::string>>{{1000, "qmtstat 0 1"},
                                                {2500, "pdp-deact 1"},
                                                {4000, "qmtstat 0 1"},
                                                {5500, "reboot"},
                                                {7000, "restart the upstream broker"}})
    faults.push_back(Fault{after, what, false, {}, 0});

  MqttTestClient pub;
  pub.connect(local_.port(), "seq-publisher");
  Ledger ledger("fleet/gw1/seq/data", kCount);
  const auto started = Clock::now();
  const auto deadline = started + kLongLimit;
  int published = 0;
  std::optional<Clock::time_point> first_fault;
  Fault* latest_fault = nullptr;
  Clock::time_point last_arrival = started;
  while (ledger.distinct() < kCount) {
    ASSERT_LT(Clock::now(), deadline) << ledger.describe_missing() << "; published " << published;
    if (published < kCount && published - ledger.distinct() < kAhead) {
      pub.publish("seq/data", numbered_payload(published), 1);
      ++published;
      cloud.pump();
    } else {
      cloud.pump(50ms);
    }
    if (!cloud.connected()) {
      // Only after the upstream restart: its persistent session kept what arrived meanwhile.
      cloud.connect(upstream_.port(), "cloud-seq", std::nullopt, std::nullopt, false);
      cloud.subscribe("fleet/gw1/#", 1);
    }
    const int before = ledger.distinct();
    ledger.absorb(cloud.messages());
    if (ledger.distinct() > before) {
      // The gap in arrivals a fault caused: measured from the subscriber, so it includes the
      // broker's delivery, but messages already on their way do not hide it.
      const auto now = Clock::now();
      if (latest_fault != nullptr)
        latest_fault->outage_s =
            std::max(latest_fault->outage_s, std::chrono::duration<double>(now - last_arrival).count());
      last_arrival = now;
    }
    for (auto& f : faults) {
      if (f.done || ledger.distinct() < f.after) continue;
      latest_fault = &f;
      f.done = true;
      f.at = Clock::now();
      if (!first_fault) first_fault = f.at;
      if (f.what.starts_with("restart")) {
        upstream_.restart();
      } else {
        ASSERT_EQ(sim().control(f.what), "ok") << f.what;
      }
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  // The link's own speed: the stretch before the first fault.
  const double clean_rate =
      faults.front().after / std::chrono::duration<double>(*first_fault - started).count();

  EXPECT_EQ(ledger.distinct(), kCount) << ledger.describe_missing();
  EXPECT_TRUE(ledger.strays().empty()) << ledger.describe_strays();
  for (const auto& f : faults)
    EXPECT_TRUE(f.done) << f.what;
  // Every message left the spool: it holds nothing once the last one is acknowledged.
  const auto drained = wait_status_document([&](const Json& j) {
    const Json* depth = j.get("spool_depth");
    const Json* counters = j.get("counters");
    const Json* up = counters != nullptr ? counters->get("up") : nullptr;
    return depth != nullptr && depth->number == 0 && up != nullptr && up->number >= kCount;
  });
  ASSERT_TRUE(drained.has_value()) << "the spool never emptied";

  const int resent = static_cast<int>(drained->get("counters")->get("resent")->number);
  RecordProperty("messages", kCount);
  RecordProperty("duplicates", ledger.duplicates());
  RecordProperty("resent_by_daemon", resent);
  RecordProperty("seconds", static_cast<int>(std::lround(seconds)));
  RecordProperty("messages_per_second", static_cast<int>(std::lround(kCount / seconds)));
  RecordProperty("messages_per_second_before_faults", static_cast<int>(std::lround(clean_rate)));
  std::printf(
      "[ figures  ] %d messages upstream in %.1f s (%.0f/s with the faults, %.0f/s before them), "
      "%d duplicates, %d sent again by the daemon\n",
      kCount, seconds, kCount / seconds, clean_rate, ledger.duplicates(), resent);
  for (const auto& f : faults)
    std::printf("[ figures  ]   %-28s nothing arrived for %.1f s\n", f.what.c_str(), f.outage_s);
}

// ---- kill -9 and restart -----------------------------------------------------------------------

TEST_F(DaemonE2E, KillNineMidStreamThenRestartLosesNothing) {
  constexpr int kBeforeKill = 3000;  // published while the daemon runs (and is killed)
  constexpr int kWhileDead = 500;    // published while it is dead: the local broker queues them
  constexpr int kCount = kBeforeKill + kWhileDead;
  constexpr int kKillAfter = 1000;  // upstream arrivals
  // A slower link, so the spool is deep when the daemon dies.
  sim({"--rtt-ms", "10"});
  MqttTestClient cloud;
  cloud.connect(upstream_.port(), "cloud-seq", std::nullopt, std::nullopt, false);
  cloud.subscribe("fleet/gw1/#", 1);
  start_daemon(settings({{"seq/#", "out", 1, "", "fleet/gw1/"}}));
  watch_status();
  ASSERT_TRUE(wait_state("1"));

  MqttTestClient pub;
  pub.connect(local_.port(), "seq-publisher");
  Ledger ledger("fleet/gw1/seq/data", kCount);
  bool killed = false;
  auto kill_when_due = [&] {
    ledger.absorb(cloud.messages());
    if (killed || ledger.distinct() < kKillAfter) return;
    killed = true;
    daemon_->signal(SIGKILL);
    const auto status = daemon_->wait_exit();
    EXPECT_TRUE(status.has_value() && status->signal == SIGKILL) << (status ? status->describe() : "running");
  };
  for (int n = 0; n < kBeforeKill; ++n) {
    pub.publish("seq/data", numbered_payload(n), 1);
    cloud.pump();
    kill_when_due();
  }
  const auto deadline = Clock::now() + kLongLimit;
  while (!killed) {
    ASSERT_LT(Clock::now(), deadline) << ledger.describe_missing();
    cloud.pump(50ms);
    kill_when_due();
  }
  ASSERT_FALSE(daemon_->running());
  for (int n = kBeforeKill; n < kCount; ++n)
    pub.publish("seq/data", numbered_payload(n), 1);

  const std::size_t log_mark = daemon_->log_size();
  daemon_->start();
  ASSERT_TRUE(daemon_->wait_ready());
  // What the spool held at the kill is still there, and drains.
  const std::string waiting = " messages waiting in the spool from before";
  ASSERT_TRUE(daemon_->wait_for_log(waiting, log_mark));
  const std::string log = daemon_->log();
  const std::size_t at = log.find(waiting, log_mark);
  const int spooled = std::atoi(log.c_str() + log.rfind(' ', at - 1) + 1);
  EXPECT_GT(spooled, 0);
  while (ledger.distinct() < kCount) {
    ASSERT_LT(Clock::now(), deadline) << ledger.describe_missing();
    cloud.pump(50ms);
    ledger.absorb(cloud.messages());
  }
  EXPECT_EQ(ledger.distinct(), kCount) << ledger.describe_missing();
  // At most the one message of the known limit, and then named in the log.
  ASSERT_LE(ledger.strays().size(), 1u) << ledger.describe_strays();
  if (!ledger.strays().empty()) {
    EXPECT_TRUE(is_probe_bytes(ledger.strays().front())) << ledger.describe_strays();
    EXPECT_NE(daemon_->log().find("that this run never made"), std::string::npos);
    RecordProperty("leftover_prompt_messages", 1);
  }
  RecordProperty("spooled_at_kill", spooled);
  RecordProperty("duplicates", ledger.duplicates());
  std::printf(
      "[ figures  ] kill -9 after %d arrivals: %d in the spool at restart, %d messages, %d duplicates\n",
      kKillAfter, spooled, kCount, ledger.duplicates());
}

// What the kill above hits now and then, made certain: the daemon dies after the module's "> "
// prompt and before the payload, leaving the module in AT+QMTPUBEX's length-prefixed data phase.
// The next daemon must not let anything it writes become that message's payload: nobody published
// it, and it must not reach the cloud.
TEST_F(DaemonE2E, RestartInsideALeftoverPublishPromptCostsOneProbeMessageAndLosesNothing) {
  MqttTestClient cloud;
  cloud.connect(upstream_.port(), "cloud-watch");
  cloud.subscribe("#", 1);
  start_daemon(settings({{"seq/#", "out", 1, "", "fleet/gw1/"}}));
  watch_status();
  ASSERT_TRUE(wait_state("1"));
  daemon_->signal(SIGKILL);
  ASSERT_TRUE(daemon_->wait_exit());
  {
    // The last thing the dead daemon did: a publish command, answered with the prompt.
    test_support::AtTerminal term(sim().link());
    const std::string prompt = term.exchange("AT+QMTPUBEX=0,7,1,0,\"fleet/gw1/seq/data\",19\r", "> ");
    ASSERT_TRUE(prompt.ends_with("> ")) << shown(prompt);
  }

  daemon_->start();
  ASSERT_TRUE(daemon_->wait_ready());
  MqttTestClient pub;
  pub.connect(local_.port(), "seq-publisher");
  pub.publish("seq/data", numbered_payload(0), 1);
  ASSERT_TRUE(wait_for_topic(cloud, "fleet/gw1/seq/data", 0, kLongLimit)) << daemon_->log();
  ASSERT_TRUE(wait_for_message(
      cloud, [](const ReceivedMessage& m) { return m.payload == numbered_payload(0); }, 0, kLongLimit));
  // Besides message 0: only the known limit's one message of probe bytes, and the log says so.
  ASSERT_LE(cloud.messages().size(), 2u) << describe(cloud.messages());
  for (const auto& m : cloud.messages()) {
    if (m.payload != numbered_payload(0)) {
      EXPECT_TRUE(is_probe_bytes(m.payload)) << describe(cloud.messages());
    }
  }
  EXPECT_NE(daemon_->log().find("that this run never made"), std::string::npos) << daemon_->log();
}

// ---- the local broker restarts -----------------------------------------------------------------

// The daemon asks for an unlimited session expiry (MQTT 5) in its first CONNECT; later ones are
// libmosquitto's reconnects. If a reconnect dropped the expiry, the session would end with the next
// disconnection, and a daemon killed after a local broker restart would miss what was published
// while it was down.
TEST_F(DaemonE2E, LocalSessionOutlivesTheDaemonAfterTheLocalBrokerRestarted) {
  constexpr int kCount = 200;
  MqttTestClient cloud;
  cloud.connect(upstream_.port(), "cloud-seq", std::nullopt, std::nullopt, false);
  cloud.subscribe("fleet/gw1/#", 1);
  start_daemon(settings({{"seq/#", "out", 1, "", "fleet/gw1/"}}));
  watch_status();
  ASSERT_TRUE(wait_state("1"));

  // The local broker restarts (an upgrade, say) and the daemon reconnects to it.
  const std::size_t mark = daemon_->log_size();
  local_.restart();
  ASSERT_TRUE(daemon_->wait_for_log("connected to the local broker", mark)) << daemon_->log();

  // Later the daemon dies. Its persistent local session must still queue what local apps publish
  // meanwhile, as it did before the broker's restart.
  daemon_->signal(SIGKILL);
  ASSERT_TRUE(daemon_->wait_exit());
  MqttTestClient pub;
  pub.connect(local_.port(), "seq-publisher");
  for (int n = 0; n < kCount; ++n)
    pub.publish("seq/data", numbered_payload(n), 1);
  daemon_->start();
  ASSERT_TRUE(daemon_->wait_ready());

  Ledger ledger("fleet/gw1/seq/data", kCount);
  const auto deadline = Clock::now() + kLimit;
  while (ledger.distinct() < kCount && Clock::now() < deadline) {
    cloud.pump(50ms);
    ledger.absorb(cloud.messages());
  }
  EXPECT_EQ(ledger.distinct(), kCount) << ledger.describe_missing();
}

TEST_F(DaemonE2E, LocalBrokerRestartLosesNothingDownstream) {
  constexpr int kBefore = 300, kWhileDown = 300, kAfter = 300;
  constexpr int kCount = kBefore + kWhileDown + kAfter;
  // The local app keeps a persistent session, so what the daemon delivers while the app is still
  // reconnecting waits for it in the broker: a missing message can only be the daemon's doing.
  MqttTestClient app;
  app.connect(local_.port(), "local-app", std::nullopt, std::nullopt, /*clean_session=*/false);
  app.subscribe("cmd/#", 1);
  start_daemon(settings({{"cmd/#", "in", 1, "", "fleet/gw1/"}}));
  watch_status();
  ASSERT_TRUE(wait_state("1"));

  MqttTestClient cloud;
  cloud.connect(upstream_.port(), "cloud-app");
  Ledger ledger("cmd/seq", kCount);
  int n = 0;
  for (; n < kBefore; ++n) {
    cloud.publish("fleet/gw1/cmd/seq", numbered_payload(n), 1);
    app.pump();
  }
  local_.stop();
  for (; n < kBefore + kWhileDown; ++n)
    cloud.publish("fleet/gw1/cmd/seq", numbered_payload(n), 1);
  // The module has handed them all to the daemon, which has nowhere to put them but its hold.
  const auto deadline = Clock::now() + kLimit;
  while (stat(sim().control("stats"), "messages_down") < kBefore + kWhileDown) {
    ASSERT_LT(Clock::now(), deadline) << sim().control("stats");
    ::poll(nullptr, 0, 10);  // modemsim's counters have no event to wait on: look again shortly
  }
  local_.restart();
  app.connect(local_.port(), "local-app", std::nullopt, std::nullopt, false);
  for (; n < kCount; ++n)
    cloud.publish("fleet/gw1/cmd/seq", numbered_payload(n), 1);

  while (ledger.distinct() < kCount) {
    ASSERT_LT(Clock::now(), deadline + kLimit) << ledger.describe_missing();
    ASSERT_TRUE(app.connected());
    app.pump(50ms);
    ledger.absorb(app.messages());
  }
  EXPECT_EQ(ledger.distinct(), kCount) << ledger.describe_missing();
  EXPECT_TRUE(ledger.strays().empty()) << ledger.describe_strays();
  EXPECT_NE(daemon_->log().find("lost the local broker"), std::string::npos);
  RecordProperty("duplicates", ledger.duplicates());
  std::printf("[ figures  ] local broker restart: %d messages down, %d duplicates\n", kCount,
              ledger.duplicates());
}

// ---- spool overflow ----------------------------------------------------------------------------

class SpoolOverflow : public DaemonE2E, public ::testing::WithParamInterface<std::string> {};

TEST_P(SpoolOverflow, KeepsWhatThePolicySaysCountsEveryDropAndSummarisesTheLog) {
  const std::string policy = GetParam();
  constexpr int kLimitMessages = 50, kPublished = 80, kDropped = kPublished - kLimitMessages;
  auto s = settings({{"seq/#", "out", 1, "", "fleet/"}});
  s.spool_max_messages = kLimitMessages;
  s.spool_overflow = policy;
  s.status_interval_s = 1;
  MqttTestClient cloud;
  cloud.connect(upstream_.port(), "cloud-seq");
  cloud.subscribe("fleet/#", 1);
  // No network: the module never registers, so nothing leaves the spool.
  ASSERT_EQ(sim().control("network down"), "ok");
  start_daemon(s);
  watch_status();
  // The daemon publishes its status once subscribed locally.
  ASSERT_TRUE(wait_status_document([](const Json&) { return true; }));

  MqttTestClient pub;
  pub.connect(local_.port(), "seq-publisher");
  for (int n = 0; n < kPublished; ++n)
    pub.publish("seq/data", numbered_payload(n), 1);
  // Every drop is counted.
  const auto full = wait_status_document([&](const Json& j) {
    const Json* counters = j.get("counters");
    return j.get("spool_depth")->number == kLimitMessages && counters != nullptr &&
           counters->get("dropped")->number == kDropped;
  });
  EXPECT_TRUE(full.has_value()) << "no status document with spool_depth " << kLimitMessages;

  // The log names the first drop at once, with the policy's words, and not every other one: a
  // flood used to write one warning per message (issue 18). The rest are summarised once the
  // throttle's interval ends, or at the latest when the daemon stops (checked at the end).
  const std::string drop_line = policy == "drop-oldest" ? "spool full: dropped the oldest message"
                                                        : "spool full: dropped a new message";
  ASSERT_TRUE(daemon_->wait_for_log(drop_line)) << daemon_->log();
  const auto lines_with = [&](const std::string& text) {
    const std::string log = daemon_->log();
    int lines = 0;
    for (std::size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1))
      ++lines;
    return lines;
  };
  EXPECT_EQ(lines_with(drop_line), 1) << daemon_->log();

  ASSERT_EQ(sim().control("network up"), "ok");
  Ledger ledger("fleet/seq/data", kPublished);
  const auto deadline = Clock::now() + kLimit * 2;
  while (ledger.distinct() < kLimitMessages) {
    ASSERT_LT(Clock::now(), deadline) << ledger.describe_missing();
    cloud.pump(50ms);
    ledger.absorb(cloud.messages());
  }
  // One more, behind them in the spool: once it is upstream, anything else would be too.
  pub.publish("seq/end", "end", 1);
  ASSERT_TRUE(wait_for_topic(cloud, "fleet/seq/end"));
  ledger.absorb(cloud.messages());

  const int first_kept = policy == "drop-oldest" ? kDropped : 0;
  for (int n = 0; n < kPublished; ++n) {
    const bool kept = n >= first_kept && n < first_kept + kLimitMessages;
    EXPECT_EQ(ledger.times(n), kept ? 1 : 0) << "message " << n << " under " << policy;
  }
  EXPECT_TRUE(ledger.strays().empty()) << ledger.describe_strays();

  // The summary of the other drops: written when the interval ended, or on the way out.
  daemon_->signal(SIGTERM);
  ASSERT_TRUE(daemon_->wait_exit());
  const std::string summary = "spool full: dropped " + std::to_string(kDropped - 1) + " more messages (" +
                              std::to_string(kDropped) + " dropped so far";
  EXPECT_EQ(lines_with(summary), 1) << daemon_->log();
  EXPECT_EQ(lines_with(drop_line), 1) << daemon_->log();
}

INSTANTIATE_TEST_SUITE_P(Policies, SpoolOverflow, ::testing::Values("drop-oldest", "drop-new"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param == "drop-oldest" ? std::string("DropOldest")
                                                              : std::string("DropNew");
                         });

// ---- floods from local apps --------------------------------------------------------------------

// The module takes at most 1500 bytes of payload, so the daemon asks the local broker (MQTT 5
// Maximum Packet Size) not to send it anything much larger: a 10 MB local publish is dropped by the
// broker instead of being read whole into the daemon (issue 18). What the daemon could forward
// still comes through, and a message just over the module's limit still reaches the daemon and is
// refused and counted there, as before.
TEST_F(DaemonE2E, ALocalPublishFarOverTheModulesLimitNeverReachesTheDaemon) {
  MqttTestClient cloud;
  cloud.connect(upstream_.port(), "cloud-watch");
  cloud.subscribe("up/#", 1);
  auto s = settings({{"a/#", "out", 1, "", "up/"}});
  s.status_interval_s = 1;
  start_daemon(s);
  watch_status();
  ASSERT_TRUE(wait_state("1"));

  MqttTestClient pub;
  pub.connect(local_.port(), "local-app");
  pub.publish("a/big", std::string(10 * 1024 * 1024, 'x'), 1);
  // Over the module's 1500 bytes, under the packet limit: refused by the daemon.
  for (int n = 0; n < 3; ++n)
    pub.publish("a/over", std::string(2000, 'o'), 1);
  pub.publish("a/after", "after", 1);
  ASSERT_TRUE(wait_for_topic(cloud, "up/a/after")) << describe(cloud.messages());
  EXPECT_EQ(cloud.messages().size(), 1u) << describe(cloud.messages());
  EXPECT_TRUE(local_.wait_for_log("Dropping too large outgoing PUBLISH for cellmqttd")) << local_.log();

  // The daemon handles local messages in order: once "a/after" is counted as delivered, a/big and
  // a/over are behind it. Only the a/over ones were refused; a/big never arrived.
  const auto counted = wait_status_document([](const Json& j) {
    const Json* counters = j.get("counters");
    return counters != nullptr && counters->get("up")->number == 1;
  });
  ASSERT_TRUE(counted.has_value());
  EXPECT_EQ(counted->get("counters")->get("refused")->number, 3);
  EXPECT_EQ(daemon_->log().find("a/big"), std::string::npos) << daemon_->log();
  // The first refusal is logged at once, the other two in a summary (at the latest on the way out).
  daemon_->signal(SIGTERM);
  ASSERT_TRUE(daemon_->wait_exit());
  const std::string log = daemon_->log();
  const std::string refusal = "not forwarding a message from \"a/over\"";
  EXPECT_NE(log.find(refusal), std::string::npos) << log;
  EXPECT_EQ(log.find(refusal), log.rfind(refusal)) << log;
  EXPECT_NE(log.find("not forwarding 2 more messages the module could not take (3 refused so far)"),
            std::string::npos)
      << log;
}

// ---- configuration errors ----------------------------------------------------------------------

TEST_F(DaemonE2E, CheckConfigNamesEveryErrorWithItsPosition) {
  DaemonProcess files(
      settings({{"a/#", "out", 1, "", "up/"}}));  // for its directory and a good configuration
  const auto good = DaemonProcess::run({"--check-config", "--config", files.config_path()});
  EXPECT_TRUE(good.status.clean()) << good.status.describe() << "\n" << good.err;
  EXPECT_EQ(good.out, files.config_path() + ": OK\n");

  // Several mistakes at once, each at a known line and column: a value's type, range or choice is
  // reported at the value, an unknown key at the key.
  const std::string bad_path = files.dir() + "/bad.toml";
  std::ofstream(bad_path)
      << ("[modem]\n"                           // 1
          "port = 5\n"                          // 2: not a string (value at column 8)
          "baud = 12345\n"                      // 3: not a standard rate
          "\n"                                  // 4
          "[upstream]\n"                        // 5
          "host = \"broker.example.com\"\n"     // 6
          "port = 70000\n"                      // 7: out of range
          "colour = \"blue\"\n"                 // 8: unknown key (column 1)
          "\n"                                  // 9
          "[[bridge]]\n"                        // 10
          "topic = \"a/#\"\n"                   // 11
          "direction = \"sideways\"\n"          // 12: not a choice (column 13)
          "\n"                                  // 13
          "[spool]\n"                           // 14
          "overflow = \"drop-everything\"\n");  // 15 (column 12)
  const auto bad = DaemonProcess::run({"--check-config", "--config", bad_path});
  ASSERT_TRUE(bad.status.exited) << bad.status.describe();
  EXPECT_EQ(bad.status.code, 1);

  const std::vector<std::string> expected = {
      bad_path + ":2:8: modem.port: ",
      bad_path + ":3:8: modem.baud: ",
      bad_path + ":7:8: upstream.port: ",
      bad_path + ":8:1: upstream.colour: ",
      bad_path + ":12:13: bridge[0].direction: ",
      bad_path + ":15:12: spool.overflow: ",
  };
  std::vector<std::string> lines;
  std::istringstream err(bad.err);
  for (std::string line; std::getline(err, line);)
    lines.push_back(line);
  for (const auto& prefix : expected) {
    const auto it = std::find_if(lines.begin(), lines.end(), [&](const std::string& l) {
      return l.starts_with(prefix) && l.size() > prefix.size();  // and a message after the key
    });
    EXPECT_NE(it, lines.end()) << "no line starting \"" << prefix << "\" in:\n" << bad.err;
  }
  // Nothing else: one line per error, then the count.
  EXPECT_EQ(lines.size(), expected.size() + 1) << bad.err;
  EXPECT_NE(bad.err.find(std::to_string(expected.size()) + " error(s) in " + bad_path), std::string::npos)
      << bad.err;
  EXPECT_TRUE(bad.out.empty()) << bad.out;
}

// ---- SIGHUP ------------------------------------------------------------------------------------

TEST_F(DaemonE2E, SighupAppliesNewRulesWithoutDroppingTheSessionAndKeepsThemOnABadFile) {
  MqttTestClient cloud;
  cloud.connect(upstream_.port(), "cloud-watch");
  cloud.subscribe("up/#", 1);
  auto before = settings({{"a/#", "out", 1, "", "up/"}});
  start_daemon(before);
  watch_status();
  ASSERT_TRUE(wait_state("1"));
  MqttTestClient pub;
  pub.connect(local_.port(), "local-app");
  pub.publish("a/1", "one", 1);
  ASSERT_TRUE(wait_for_topic(cloud, "up/a/1"));
  const std::string stats_before = sim().control("stats");

  // New rules: a/# no longer goes up, b/# does, and commands come down.
  auto after = settings({{"b/#", "out", 1, "", "up/"}, {"cmd/#", "in", 1, "", "down/"}});
  daemon_->rewrite_config(after);
  const std::size_t n0 = daemon_->notifications().size();
  daemon_->signal(SIGHUP);
  const auto reloading = daemon_->wait_for_notification("RELOADING=1", n0);
  ASSERT_TRUE(reloading);
  ASSERT_TRUE(daemon_->wait_for_notification("READY=1", *reloading + 1));
  // READY=1 comes once the rules are applied; the brokers confirm the subscriptions a moment
  // later, and their logs say when.
  ASSERT_TRUE(local_.wait_for_log("cellmqttd 1 b/#", kLimit));
  ASSERT_TRUE(upstream_.wait_for_log("cellmqttd-e2e 1 down/cmd/#", kLimit));

  MqttTestClient app;
  app.connect(local_.port(), "local-watch");
  app.subscribe("cmd/#", 1);
  pub.publish("a/2", "no longer bridged", 1);
  pub.publish("b/1", "new rule", 1);
  ASSERT_TRUE(wait_for_topic(cloud, "up/b/1"));
  MqttTestClient cloud_pub;
  cloud_pub.connect(upstream_.port(), "cloud-app");
  cloud_pub.publish("down/cmd/go", "go", 1);
  ASSERT_TRUE(wait_for_topic(app, "cmd/go"));
  EXPECT_EQ(app.messages().back().payload, "go");

  // The cellular session was not dropped for it.
  const std::string stats_after = sim().control("stats");
  EXPECT_EQ(stat(stats_after, "AT+QMTOPEN"), stat(stats_before, "AT+QMTOPEN")) << stats_after;
  EXPECT_EQ(stat(stats_after, "AT+QMTCONN"), stat(stats_before, "AT+QMTCONN")) << stats_after;
  EXPECT_EQ(stat(stats_before, "AT+QMTOPEN"), 1) << stats_before;

  // A broken file on SIGHUP: reported with its position, and the running rules stay.
  std::string broken = test_support::daemon_config_toml(after, daemon_->spool_path());
  const std::size_t bad_at = broken.find("direction = \"out\"");
  ASSERT_NE(bad_at, std::string::npos);
  broken.replace(bad_at, std::string("direction = \"out\"").size(), "direction = \"sideways\"");
  const int bad_line = 1 + static_cast<int>(std::count(broken.begin(), broken.begin() + bad_at, '\n'));
  daemon_->rewrite_config_text(broken);
  const std::size_t log_mark = daemon_->log_size();
  const std::size_t n1 = daemon_->notifications().size();
  daemon_->signal(SIGHUP);
  const auto reloading_again = daemon_->wait_for_notification("RELOADING=1", n1);
  ASSERT_TRUE(reloading_again);
  ASSERT_TRUE(daemon_->wait_for_notification("READY=1", *reloading_again + 1));
  ASSERT_TRUE(daemon_->wait_for_log("keeping the running one", log_mark)) << daemon_->log();
  const std::string position =
      daemon_->config_path() + ":" + std::to_string(bad_line) + ":13: bridge[0].direction: ";
  EXPECT_NE(daemon_->log().find(position, log_mark), std::string::npos) << "no \"" << position << "\" in\n"
                                                                        << daemon_->log().substr(log_mark);

  pub.publish("b/2", "still bridged", 1);
  ASSERT_TRUE(wait_for_topic(cloud, "up/b/2"));
  cloud_pub.publish("down/cmd/again", "again", 1);
  ASSERT_TRUE(wait_for_topic(app, "cmd/again"));

  // Upstream saw exactly what the rules in force said, each once.
  const std::vector<std::pair<std::string, std::string>> up = {
      {"up/a/1", "one"}, {"up/b/1", "new rule"}, {"up/b/2", "still bridged"}};
  EXPECT_EQ(cloud.messages().size(), up.size()) << describe(cloud.messages());
  for (const auto& [topic, payload] : up)
    EXPECT_EQ(count_of(cloud.messages(), topic, payload), 1) << describe(cloud.messages());
  EXPECT_EQ(stat(sim().control("stats"), "AT+QMTOPEN"), 1);
  // Without WATCHDOG_USEC there is no watchdog to feed.
  for (const auto& n : daemon_->notifications())
    EXPECT_EQ(n.find("WATCHDOG=1"), std::string::npos) << n;
}

// [upstream.tls] on SIGHUP (issue 12): the files are read and checked again, and files that fail
// leave the running settings alone; switching TLS on waits for a restart (it changes the port and
// what the broker expects), and the cellular session is not dropped for any of it.
TEST_F(DaemonE2E, SighupChecksTheTlsFilesAndKeepsTheRunningSettingsWhenTheyFail) {
  const auto s = settings({{"a/#", "out", 1, "", "up/"}});
  start_daemon(s);
  watch_status();
  ASSERT_TRUE(wait_state("1"));
  const std::string stats_before = sim().control("stats");

  const test_support::TestCa ca("Broker Root");
  test_support::CertificateOptions old;
  old.common_name = "Old Root";
  old.not_before = -std::chrono::hours(48);
  old.not_after = -std::chrono::hours(24);
  const std::string ca_path = daemon_->dir() + "/ca.pem";
  test_support::write_file(ca_path, ca.issue(old).cert_pem);
  const std::string with_tls = test_support::daemon_config_toml(s, daemon_->spool_path()) +
                               "\n[upstream.tls]\nenabled = true\nca_file = \"ca.pem\"\n";
  daemon_->rewrite_config_text(with_tls);
  const int ca_line = static_cast<int>(std::count(with_tls.begin(), with_tls.end(), '\n'));  // the last

  auto reload = [&] {
    const std::size_t n = daemon_->notifications().size();
    daemon_->signal(SIGHUP);
    const auto reloading = daemon_->wait_for_notification("RELOADING=1", n);
    return reloading && daemon_->wait_for_notification("READY=1", *reloading + 1);
  };
  std::size_t mark = daemon_->log_size();
  ASSERT_TRUE(reload());
  ASSERT_TRUE(daemon_->wait_for_log("keeping the running one", mark)) << daemon_->log();
  const std::string expired = daemon_->config_path() + ":" + std::to_string(ca_line) +
                              ":1: upstream.tls.ca_file: " + ca_path +
                              ": the certificate \"Old Root\" expired on ";
  EXPECT_NE(daemon_->log().find(expired, mark), std::string::npos) << "no \"" << expired << "\" in\n"
                                                                   << daemon_->log().substr(mark);

  // A good file: accepted, but TLS is switched on only by a restart.
  test_support::write_file(ca_path, ca.cert_pem());
  mark = daemon_->log_size();
  ASSERT_TRUE(reload());
  ASSERT_TRUE(daemon_->wait_for_log("; TLS stays off until a restart;", mark)) << daemon_->log().substr(mark);

  MqttTestClient cloud;
  cloud.connect(upstream_.port(), "cloud-watch");
  cloud.subscribe("up/#", 1);
  MqttTestClient pub;
  pub.connect(local_.port(), "local-app");
  pub.publish("a/1", "still bridged", 1);
  ASSERT_TRUE(wait_for_topic(cloud, "up/a/1"));
  const std::string stats_after = sim().control("stats");
  EXPECT_EQ(stat(stats_after, "AT+QMTOPEN"), stat(stats_before, "AT+QMTOPEN")) << stats_after;
}

// ---- systemd -----------------------------------------------------------------------------------

TEST_F(DaemonE2E, NotifiesSystemdAndStopsCleanlyOnSigterm) {
  start_daemon(settings({{"a/#", "out", 1, "", "up/"}}), {.watchdog = std::chrono::seconds(1)});
  const auto ready = daemon_->wait_for_notification("READY=1");
  ASSERT_TRUE(ready);
  const auto status = DaemonProcess::notification_field(daemon_->notifications()[*ready], "STATUS");
  ASSERT_TRUE(status.has_value()) << daemon_->notifications()[*ready];
  EXPECT_FALSE(status->empty());

  // The watchdog is fed from the loop, every half period.
  const auto first_watchdog = daemon_->wait_for_notification("WATCHDOG=1");
  ASSERT_TRUE(first_watchdog);
  ASSERT_TRUE(daemon_->wait_for_notification("WATCHDOG=1", *first_watchdog + 1));

  watch_status();
  const auto connected = wait_state("1");
  ASSERT_TRUE(connected);
  // STATUS= says so in words.
  const auto connected_status = [&] {
    for (const auto& n : daemon_->notifications()) {
      if (auto s = DaemonProcess::notification_field(n, "STATUS"); s && s->starts_with("connected to "))
        return s;
    }
    return std::optional<std::string>();
  };
  // Sent before the state topic's "1", which the monitor has seen.
  auto words = connected_status();
  ASSERT_TRUE(words.has_value());
  EXPECT_NE(words->find("broker.example.com"), std::string::npos) << *words;
  EXPECT_NE(words->find(test_support::simulated_module().ati_model), std::string::npos) << *words;

  // The retained status document, as a newcomer gets it.
  MqttTestClient reader;
  reader.connect(local_.port(), "status-reader");
  reader.subscribe("cellmqttd/status", 1);
  ASSERT_TRUE(wait_for_topic(reader, "cellmqttd/status"));
  const auto& doc = reader.messages().front();
  EXPECT_TRUE(doc.retain);
  const auto json = JsonReader::parse(doc.payload);
  ASSERT_TRUE(json.has_value()) << "not JSON: " << doc.payload;
  ASSERT_NE(json->get("state"), nullptr) << doc.payload;
  EXPECT_EQ(json->get("state")->string, "ready") << doc.payload;
  ASSERT_NE(json->get("model"), nullptr) << doc.payload;
  EXPECT_EQ(json->get("model")->string, test_support::simulated_module().ati_model) << doc.payload;
  ASSERT_NE(json->get("family"), nullptr) << doc.payload;
  EXPECT_EQ(json->get("family")->string, test_support::simulated_module().family) << doc.payload;
  ASSERT_NE(json->get("spool_depth"), nullptr) << doc.payload;
  EXPECT_EQ(json->get("spool_depth")->type, Json::Type::kNumber) << doc.payload;
  EXPECT_EQ(json->get("spool_depth")->number, 0) << doc.payload;

  // SIGTERM: STOPPING=1, a clean DISCONNECT upstream, "0" on the state topic, exit status 0.
  const int disc_before = stat(sim().control("stats"), "AT+QMTDISC");
  const std::size_t n0 = daemon_->notifications().size();
  daemon_->signal(SIGTERM);
  ASSERT_TRUE(daemon_->wait_for_notification("STOPPING=1", n0));
  const auto ended = daemon_->wait_exit();
  ASSERT_TRUE(ended.has_value()) << "still running after SIGTERM";
  EXPECT_TRUE(ended->clean()) << ended->describe();
  EXPECT_EQ(stat(sim().control("stats"), "AT+QMTDISC"), disc_before + 1) << sim().control("stats");
  EXPECT_TRUE(upstream_.wait_for_log("Client cellmqttd-e2e disconnected.")) << upstream_.log();
  EXPECT_TRUE(wait_state("0", *connected + 1));
  MqttTestClient after;
  after.connect(local_.port(), "state-reader");
  after.subscribe("cellmqttd/status/state", 1);
  ASSERT_TRUE(wait_for_topic(after, "cellmqttd/status/state"));
  EXPECT_EQ(after.messages().front().payload, "0");
  EXPECT_TRUE(after.messages().front().retain);
}

}  // namespace
