// cellmqttd with TLS to an upstream mosquitto that listens only with TLS, through modemsim's real
// TLS client (issue 12): the certificates are made for each test (test_pki.hpp), uploaded to the
// module once, and the traffic crosses faults and a module reboot byte-exact. The failures the
// field knows (field-notes.md 3.3) each end in one clear log line and the status document, with
// backoff and never a module reset.
#include <fmt/format.h>
#include <sys/stat.h>

#include "daemon_e2e.hpp"
#include "support/test_pki.hpp"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
using namespace std::string_literals;
using test_support::BrokerOptions;
using test_support::BrokerTls;
using test_support::CertificateOptions;
using test_support::ClientTls;
using test_support::Credential;
using test_support::TestCa;

// The host the module is asked to open (modemsim connects to the test's broker whatever it is
// told), and the address the tests' own clients check the broker's certificate for.
const std::vector<std::string> kBrokerNames = {"broker.example.com", "127.0.0.1"};

class DaemonTls : public DaemonE2E {
 protected:
  // The upstream broker again, TLS only; `server` is its certificate (ca_.issue by default).
  void start_tls_broker(bool mutual, std::optional<Credential> server = std::nullopt) {
    const Credential cert =
        server ? *server : ca_.issue({.common_name = "broker", .alt_names = kBrokerNames});
    BrokerOptions options = persistent_broker();
    options.tls = BrokerTls{ca_.cert_pem(), cert.cert_pem, cert.key_pem, mutual};
    upstream_ = MosquittoBroker::start(options);
  }

  // [upstream.tls] with the files written next to the daemon's configuration.
  DaemonSettings tls_settings(bool mutual, const std::string& ca_pem) {
    auto s = settings({{"data/#", "out", 1, "", "gw1/up/"}, {"cmd/#", "in", 1, "", "gw1/down/"}});
    s.status_interval_s = 1;
    s.keepalive_s = 10;
    s.upstream_tls_toml = "enabled = true\nca_file = \"ca.pem\"\n";
    files_["ca.pem"] = ca_pem;
    if (mutual) {
      const Credential client = ca_.issue({.common_name = "gw1", .client = true});
      s.upstream_tls_toml += "cert_file = \"client.pem\"\nkey_file = \"client.key\"\n";
      files_["client.pem"] = client.cert_pem;
      files_["client.key"] = client.key_pem;
    }
    return s;
  }

  void start_tls_daemon(const DaemonSettings& s) {
    status_topic_ = s.status_topic;
    daemon_ = std::make_unique<DaemonProcess>(s);
    write_files();
    daemon_->start();
    ASSERT_TRUE(daemon_->wait_ready()) << daemon_->log();
  }

  void write_files() {
    for (const auto& [name, contents] : files_)
      test_support::write_file(daemon_->dir() + "/" + name, contents, name.ends_with(".key") ? 0600 : 0644);
  }

  ClientTls cloud_tls(bool mutual) {
    ClientTls tls{ca_.cert_pem()};
    if (mutual) {
      const Credential watcher = ca_.issue({.common_name = "cloud-watch", .client = true});
      tls.cert_pem = watcher.cert_pem;
      tls.key_pem = watcher.key_pem;
    }
    return tls;
  }

  // modemsim's counters ("stats"): uploads, deletes, NTP requests.
  int sim_stat(const std::string& key) {
    const auto stats = JsonReader::parse(sim().control("stats"));
    const Json* value = stats ? stats->get(key) : nullptr;
    return value ? static_cast<int>(value->number) : -1;
  }

  std::optional<Json> wait_tls_error(const std::string& fragment) {
    return wait_status_from(0, [&](const Json& j) {
      const Json* tls = j.get("tls");
      const Json* error = tls ? tls->get("last_error") : nullptr;
      return error && error->string.find(fragment) != std::string::npos;
    });
  }

  // The first status document from message `from` of the monitor on that `match`es.
  std::optional<Json> wait_status_from(std::size_t from, const std::function<bool(const Json&)>& match) {
    std::optional<Json> found;
    wait_for_message(
        monitor_,
        [&](const ReceivedMessage& m) {
          auto json = m.topic == status_topic_ ? JsonReader::parse(m.payload) : std::nullopt;
          if (!json || !match(*json)) return false;
          found = std::move(json);
          return true;
        },
        from, kLongLimit);
    return found;
  }

  // The last status document, for a failure's message.
  std::string last_status() {
    for (auto it = monitor_.messages().rbegin(); it != monitor_.messages().rend(); ++it)
      if (it->topic == status_topic_) return it->payload;
    return "(none)";
  }

  TestCa ca_;
  std::map<std::string, std::string> files_;
};

// ---- traffic ------------------------------------------------------------------------------------

class DaemonTlsTraffic : public DaemonTls, public ::testing::WithParamInterface<bool> {};

TEST_P(DaemonTlsTraffic, Carries500UpAnd20DownByteExactThroughAQmtstatFaultAndAReboot) {
  const bool mutual = GetParam();
  start_tls_broker(mutual);
  // A round trip of 30 ms keeps publishes in flight when the faults hit (at zero they can find an
  // idle session).
  sim({"--rtt-ms", "30"});
  MqttTestClient cloud;
  cloud.connect(upstream_.port(), "cloud-watch", std::nullopt, std::nullopt, true, cloud_tls(mutual));
  cloud.subscribe("gw1/up/#", 1);
  MqttTestClient app;
  app.connect(local_.port(), "local-watch");
  app.subscribe("cmd/#", 1);

  const auto started = Clock::now();
  watch_status();
  start_tls_daemon(tls_settings(mutual, ca_.cert_pem()));
  // The daemon's local side is up (it publishes its status) long before the module is: the first
  // message waits in the spool through the whole bring-up, TLS included.
  ASSERT_TRUE(wait_status_from(0, [](const Json&) { return true; }).has_value());
  MqttTestClient pub;
  pub.connect(local_.port(), "local-app");
  pub.publish("data/first", "first", 1);
  ASSERT_TRUE(wait_for_topic(cloud, "gw1/up/data/first", 0, kLongLimit)) << describe(cloud.messages());
  std::printf("[ figures  ] %s TLS: cold start to the first delivered message %.2f s\n",
              mutual ? "mutual" : "server-verified",
              std::chrono::duration<double>(Clock::now() - started).count());
  const int uploads = sim_stat("qfupl");
  EXPECT_EQ(uploads, mutual ? 3 : 1);

  // 500 up, with a dropped connection after 150 and a module reboot after 300.
  std::vector<std::string> payloads;
  for (int i = 0; i < 500; ++i) {
    payloads.push_back(fmt::format("m{:03} {}", i, std::string(static_cast<std::size_t>(i % 97), '\xA5')) +
                       ",\r\n\"OK\"\0"s);
    pub.publish(fmt::format("data/{}", i), payloads.back(), 1);
    if (i == 150) {
      ASSERT_EQ(sim().control("qmtstat 0 1"), "ok");
    }
    if (i == 300) {
      ASSERT_EQ(sim().control("reboot"), "ok");
    }
  }
  // 20 down, once the session is back.
  ASSERT_TRUE(wait_for_topic(cloud, "gw1/up/data/499", 0, kLongLimit)) << describe(cloud.messages());
  MqttTestClient cloud_pub;
  cloud_pub.connect(upstream_.port(), "cloud-app", std::nullopt, std::nullopt, true, cloud_tls(mutual));
  std::vector<std::string> commands;
  for (int i = 0; i < 20; ++i) {
    commands.push_back(fmt::format("command {} \r\n+QMTSTAT: 0,1\r\n", i) + "\0\xff"s);
    cloud_pub.publish(fmt::format("gw1/down/cmd/{}", i), commands.back(), 1);
  }
  ASSERT_TRUE(wait_for_message(
      app, [&](const ReceivedMessage&) { return app.messages().size() >= 20; }, 0, kLongLimit))
      << describe(app.messages());

  const auto settled = wait_status_from(monitor_.messages().size(), [](const Json& j) {
    const Json* depth = j.get("spool_depth");
    return depth != nullptr && depth->number == 0 && j.get("state")->string == "ready";
  });
  ASSERT_TRUE(settled.has_value());
  const int resent = static_cast<int>(settled->get("counters")->get("resent")->number);
  int extra = 0;
  for (int i = 0; i < 500; ++i) {
    const int n =
        count_of(cloud.messages(), fmt::format("gw1/up/data/{}", i), payloads[static_cast<std::size_t>(i)]);
    EXPECT_GE(n, 1) << "message " << i << " never arrived";
    extra += std::max(0, n - 1);
  }
  // QoS 1 is at least once: a copy may come twice where the daemon sent it again (`resent`), and
  // seen once in a few runs without (cause not found yet, noted in issue 12's closing note): at most
  // one in-flight window (5) per fault on top.
  EXPECT_LE(extra, resent + 2 * 5);
  std::printf("[ figures  ] 500 up: %d duplicate(s), %d sent again by the daemon\n", extra, resent);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(count_of(app.messages(), fmt::format("cmd/{}", i), commands[static_cast<std::size_t>(i)]), 1)
        << i;

  // Both faults were met on the way.
  EXPECT_NE(daemon_->log().find("MQTT connection closed (code 1)"), std::string::npos);
  EXPECT_NE(daemon_->log().find("the module restarted by itself"), std::string::npos);
  // The reboot kept the files (UFS): nothing was uploaded again; the clock came from NTP.
  EXPECT_EQ(sim_stat("qfupl"), uploads);
  const Json* tls = settled->get("tls");
  ASSERT_NE(tls, nullptr);
  EXPECT_EQ(tls->get("clock_source")->string, "ntp") << last_status();
  EXPECT_EQ(tls->get("last_error")->type, Json::Type::kNull);
}

INSTANTIATE_TEST_SUITE_P(ServerVerifiedAndMutual, DaemonTlsTraffic, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "MutualTls" : "ServerVerifiedTls"; });

// ---- uploads only when a file changed ------------------------------------------------------------

TEST_F(DaemonTls, ARestartWithUnchangedFilesUploadsNothing) {
  start_tls_broker(true);
  start_tls_daemon(tls_settings(true, ca_.cert_pem()));
  watch_status();
  ASSERT_TRUE(wait_state("1", 0, kLongLimit)) << daemon_->log();
  ASSERT_EQ(sim_stat("qfupl"), 3);

  daemon_->signal(SIGTERM);
  ASSERT_TRUE(daemon_->wait_exit().has_value());
  const std::size_t mark = monitor_.messages().size();
  daemon_->start();
  ASSERT_TRUE(wait_state("1", mark, kLongLimit)) << daemon_->log();
  EXPECT_EQ(sim_stat("qfupl"), 3);
  EXPECT_EQ(sim_stat("qfdel"), 0);
  const auto status =
      wait_status_document([](const Json& j) { return j.get("tls") && j.get("tls")->get("files_uploaded"); });
  ASSERT_TRUE(status);
}

TEST_F(DaemonTls, AChangedFileIsReplacedAfterSighupAndOnlyThatFile) {
  start_tls_broker(true);
  start_tls_daemon(tls_settings(true, ca_.cert_pem()));
  watch_status();
  ASSERT_TRUE(wait_state("1", 0, kLongLimit)) << daemon_->log();
  ASSERT_EQ(sim_stat("qfupl"), 3);

  // The CA bundle gains a second root (a cloud's CA rotation): still good for this broker.
  const TestCa next_ca("next root");
  test_support::write_file(daemon_->dir() + "/ca.pem", ca_.cert_pem() + next_ca.cert_pem());
  const std::size_t mark = monitor_.messages().size();
  const std::size_t log_mark = daemon_->log_size();
  daemon_->signal(SIGHUP);
  ASSERT_TRUE(daemon_->wait_for_log("the TLS settings changed", log_mark)) << daemon_->log();
  ASSERT_TRUE(wait_state("1", mark, kLongLimit)) << daemon_->log();
  EXPECT_EQ(sim_stat("qfupl"), 4);  // the CA bundle only
  EXPECT_EQ(sim_stat("qfdel"), 1);  // and its old version gone

  MqttTestClient cloud;
  cloud.connect(upstream_.port(), "cloud-watch", std::nullopt, std::nullopt, true, cloud_tls(true));
  cloud.subscribe("gw1/up/#", 1);
  MqttTestClient pub;
  pub.connect(local_.port(), "local-app");
  pub.publish("data/after-rotation", "still here", 1);
  EXPECT_TRUE(wait_for_topic(cloud, "gw1/up/data/after-rotation", 0, kLongLimit))
      << describe(cloud.messages());
}

TEST_F(DaemonTls, AWrongKeyKeepsTheLocalSideAndTheSpoolUntilItIsFixedAndReloaded) {
  start_tls_broker(true);
  DaemonSettings s = tls_settings(true, ca_.cert_pem());
  const std::string right_key = files_["client.key"];
  files_["client.key"] = test_support::make_private_key_pem();
  watch_status();
  start_tls_daemon(s);
  ASSERT_TRUE(wait_tls_error("is not the private key").has_value()) << daemon_->log();

  // Local apps keep publishing: the messages wait in the spool, none is lost.
  MqttTestClient pub;
  pub.connect(local_.port(), "local-app");
  pub.publish("data/while-broken", "kept", 1);
  ASSERT_TRUE(
      wait_status_from(0, [](const Json& j) { return j.get("spool_depth")->number == 1; }).has_value());

  test_support::write_file(daemon_->dir() + "/client.key", right_key, 0600);
  MqttTestClient cloud;
  cloud.connect(upstream_.port(), "cloud-watch", std::nullopt, std::nullopt, true, cloud_tls(true));
  cloud.subscribe("gw1/up/#", 1);
  daemon_->signal(SIGHUP);
  ASSERT_TRUE(wait_for_topic(cloud, "gw1/up/data/while-broken", 0, kLongLimit)) << daemon_->log();
  EXPECT_EQ(count_of(cloud.messages(), "gw1/up/data/while-broken", "kept"), 1);
}

// ---- failures: one clear line, the status, backoff, no module reset ------------------------------

struct TlsFailure {
  std::string name;
  std::string expected;  // in the log line and the status' tls.last_error
};

void PrintTo(const TlsFailure& f, std::ostream* os) {
  *os << f.name;
}

class DaemonTlsFailure : public DaemonTls, public ::testing::WithParamInterface<TlsFailure> {};

TEST_P(DaemonTlsFailure, EndsInOneClearLineAndTheStatusWithBackoffAndNoReset) {
  const TlsFailure& failure = GetParam();
  bool mutual = false;
  std::string ca = ca_.cert_pem();
  if (failure.name == "wrong CA") {
    start_tls_broker(false);
    ca = TestCa("some other root").cert_pem();
  } else if (failure.name == "expired server certificate") {
    start_tls_broker(false, ca_.issue({.common_name = "broker",
                                       .alt_names = kBrokerNames,
                                       .not_before = -std::chrono::hours(24 * 60),
                                       .not_after = -std::chrono::hours(24)}));
  } else if (failure.name == "key that does not match") {
    start_tls_broker(true);
    mutual = true;
  } else if (failure.name == "module clock that cannot be set") {
    start_tls_broker(false);
    ASSERT_EQ(sim().control("ntp-fail on"), "ok");
  }
  DaemonSettings s = tls_settings(mutual, ca);
  if (failure.name == "key that does not match") files_["client.key"] = test_support::make_private_key_pem();

  start_tls_daemon(s);
  watch_status();
  const auto status = wait_tls_error(failure.expected);
  ASSERT_TRUE(status.has_value()) << daemon_->log();
  EXPECT_NE(status->get("state")->string, "ready");

  // Backed off and tried again, never climbing: the log has the line more than once and no rung
  // above reopening.
  ASSERT_TRUE(daemon_->wait_for_log(failure.expected, daemon_->log().find(failure.expected) + 1, kLongLimit))
      << daemon_->log();
  const std::string log = daemon_->log();
  for (const char* rung : {"next: cycle the PDP", "next: cycle the radio", "next: reset the module"})
    EXPECT_EQ(log.find(rung), std::string::npos) << rung << "\n" << log;
  EXPECT_EQ(sim().log().find("AT+CFUN=1,1"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    TheFieldsFailures, DaemonTlsFailure,
    ::testing::Values(
        TlsFailure{"wrong CA", "the TLS connection to broker.example.com:1883 failed; likely causes"},
        TlsFailure{"expired server certificate",
                   "the TLS connection to broker.example.com:1883 failed; likely causes"},
        TlsFailure{"key that does not match", "is not the private key of the certificate \"gw1\""},
        TlsFailure{"module clock that cannot be set", "the module's clock is not set"}),
    [](const auto& info) { return test_name(info.param.name); });

}  // namespace
