// The Quectel session when things go wrong for longer: SIM trouble, a broker that refuses us, the
// network gone for 30 s, a module that stops answering, and a clean stop.
#include <gtest/gtest.h>

#include <optional>

#include "support/mqtt_test_client.hpp"
#include "support/session_rig.hpp"

namespace {

using modem::session::Admission;
using modem::session::PublishOutcome;
using modem::session::PublishStatus;
using modem::session::State;
using std::chrono::seconds;
using test_support::find_command;
using test_support::SessionRig;
using test_support::SessionRigOptions;

TEST(QuectelSessionFaults, MissingSimIsAClearErrorAndIsRetried) {
  SessionRig rig;
  ASSERT_EQ(rig.sim().control("sim absent"), "ok");
  ASSERT_TRUE(rig.run_until([&] { return rig.session().state() == State::kSimError; }));
  EXPECT_TRUE(rig.session_log().contains("SIM not inserted"));
  ASSERT_EQ(rig.sim().control("sim ready"), "ok");  // a SIM turns up (or the gateway was fixed)
  ASSERT_TRUE(rig.run_until_ready());
}

TEST(QuectelSessionFaults, PinLockedSimSaysWhatToDo) {
  SessionRig rig;
  ASSERT_EQ(rig.sim().control("sim pin"), "ok");
  ASSERT_TRUE(rig.run_until([&] { return rig.session().state() == State::kSimError; }));
  EXPECT_TRUE(rig.session_log().contains("SIM wants a PIN"));
}

TEST(QuectelSessionFaults, RefusedCredentialsAreNamedAndNeverClimbTheLadder) {
  SessionRig rig({.broker = {{{"gateway", "right"}}}, .configure = [](auto& c) {
                    c.username = "gateway";
                    c.password = "wrong-secret";
                  }});
  ASSERT_TRUE(rig.run_until([&] { return rig.session_log().contains("3 times in a row"); }, seconds(60)));
  EXPECT_TRUE(rig.session_log().contains("bad user name or password") ||
              rig.session_log().contains("not authorized"));
  const auto commands = rig.at_trace().commands();
  EXPECT_EQ(find_command(commands, "AT+CFUN"), -1);  // a reset would not fix a password
  EXPECT_EQ(find_command(commands, "AT+QIDEACT"), -1);
  for (const auto& line : rig.at_trace().lines())
    EXPECT_EQ(line.find("wrong-secret"), std::string::npos) << line;
  for (const auto& line : rig.session_log().lines())
    EXPECT_EQ(line.find("wrong-secret"), std::string::npos) << line;
}

TEST(QuectelSessionFaults, ThirtySecondsWithoutNetworkThenBackToReady) {
  SessionRig rig({.configure = [](auto& c) { c.keepalive_s = 5; }});
  ASSERT_TRUE(rig.run_until_ready());
  ASSERT_EQ(rig.sim().control("network down"), "ok");
  const auto down_at = std::chrono::steady_clock::now();
  // The outage is real time: the module notices through its keep-alive (+QMTPING, +QMTSTAT: 0,2).
  ASSERT_TRUE(
      rig.run_until([&] { return std::chrono::steady_clock::now() - down_at >= seconds(30); }, seconds(40)));
  EXPECT_FALSE(rig.session().ready());
  ASSERT_EQ(rig.sim().control("network up"), "ok");
  ASSERT_TRUE(rig.run_until_ready(seconds(60)));
  int delivered = 0;
  ASSERT_EQ(rig.session().publish(
                "t/back", "up again", 1, false,
                [&](const PublishOutcome& o) { delivered += o.status == PublishStatus::kDelivered; }),
            Admission::kAccepted);
  ASSERT_TRUE(rig.run_until([&] { return delivered == 1; }));
}

TEST(QuectelSessionFaults, MuteModuleEscalatesUpTheLadder) {
  SessionRig rig({.configure = [](auto& c) {
    c.attempts_per_rung = 1;  // climb on every failure, so a short mute reaches the top
  }});
  ASSERT_TRUE(rig.run_until_ready());
  const std::size_t mark = rig.at_trace().size();
  ASSERT_EQ(rig.sim().control("mute 12000"), "ok");
  // Something must ask the mute module: a publish (the health queries sent on entering Ready may
  // have been answered before the mute began, and the next is a minute away).
  std::optional<PublishOutcome> outcome;
  ASSERT_EQ(rig.session().publish("t/mute", "x", 1, false, [&](const PublishOutcome& o) { outcome = o; }),
            Admission::kAccepted);
  ASSERT_TRUE(rig.run_until_ready_again(seconds(120)));
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status, PublishStatus::kFailed);  // the daemon's spool sends it again
  const auto after = rig.at_trace().commands(mark);
  EXPECT_GE(find_command(after, "AT+CFUN"), 0) << "AT timeouts never escalated past reopening";
  EXPECT_TRUE(rig.session_log().contains("does not answer"));
}

TEST(QuectelSessionFaults, StopDisconnectsCleanly) {
  SessionRig rig;
  ASSERT_TRUE(rig.run_until_ready());
  bool stopped = false;
  rig.session().stop([&] { stopped = true; });
  ASSERT_TRUE(rig.run_until([&] { return stopped; }));
  EXPECT_GE(find_command(rig.at_trace().commands(), "AT+QMTDISC=0"), 0);
  EXPECT_EQ(rig.session().state(), State::kStopped);
}

}  // namespace
