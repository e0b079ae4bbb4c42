// The recovery ladder, unit-tested against the tests' fake family (fake_dialect.hpp) on a manual
// clock: every rung, climbing after three failed attempts, the reset after a stable period, the
// registration timeout, SIM errors, a refused CONNECT that never climbs, a restart out of the
// blue, a mute module. The fake family's commands are made up, so what passes here is the
// session's own behaviour, whatever the dialect; a 120 s timeout costs no wall-clock time.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "modem/session/mqtt_session.hpp"
#include "support/log_capture.hpp"
#include "support/session_harness.hpp"

namespace modem::session {
namespace {

using namespace std::chrono_literals;
using test_support::answer_like_fake_family;
using test_support::SessionHarness;

// The commands written since `from`, as the module read them.
std::vector<std::string> commands_since(const SessionHarness& h, std::size_t from) {
  const auto& all = h.module.commands();
  return {all.begin() + static_cast<std::ptrdiff_t>(std::min(from, all.size())), all.end()};
}

bool has(const std::vector<std::string>& commands, const std::string& prefix) {
  return std::any_of(commands.begin(), commands.end(), [&](const auto& c) { return c.starts_with(prefix); });
}

// Index of the first command starting with `prefix`, or commands.size().
std::size_t position(const std::vector<std::string>& commands, const std::string& prefix) {
  const auto it =
      std::find_if(commands.begin(), commands.end(), [&](const auto& c) { return c.starts_with(prefix); });
  return static_cast<std::size_t>(it - commands.begin());
}

class SessionLadder : public ::testing::Test {
 protected:
  SessionLadder() {
    h.drive_fake_dialect();
    // After AT+CFUN=1,1 the module announces its restart, as real ones do (field-notes.md 1.4).
    h.module.on("AT+CFUN=1,1", test_support::ok_reply() + "\r\nRDY\r\n");
  }

  void bring_up() {
    ASSERT_TRUE(h.start());
    ASSERT_TRUE(h.run_until_ready());
  }

  // Runs until the session has started `n` recoveries since start().
  bool run_until_recoveries(std::size_t n) {
    return h.run_until([&] { return h.rungs.size() >= n; }, 30min);
  }

  SessionHarness h;
};

TEST_F(SessionLadder, ABringUpRunsTheBasicsThenTheDialectsStagesInOrder) {
  bring_up();
  const std::vector<std::string> expected = {"AT",
                                             "ATE0",
                                             "AT+CMEE=1",
                                             "ATI",
                                             "AT+CGSN",
                                             "AT+CPIN?",
                                             "AT+CIMI",
                                             "AT+CREG=2",
                                             "AT+CEREG=2",
                                             "AT+CEREG?",
                                             "AT+FXATTACH=1",
                                             "AT+FXCLEAN",
                                             "AT+FXCFG=",
                                             "AT+FXOPEN=",
                                             "AT+FXCONN=\"dev1\"",
                                             "AT+FXSUB=1,\"cmd/#\",1"};
  const auto& sent = h.module.commands();
  ASSERT_GE(sent.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_TRUE(sent[i].starts_with(expected[i])) << "command " << i << ": " << sent[i];
  // The session wrote nothing of its own beyond V.250 / 27.007: every other command is the dialect's.
  for (const std::string& c : sent)
    EXPECT_EQ(c.find("QMT"), std::string::npos) << c;
  EXPECT_EQ(h.session->info().model, "FX100");
  EXPECT_EQ(h.session->info().imei, "356000000000001");
  EXPECT_TRUE(h.rungs.empty());
}

TEST_F(SessionLadder, EachReasonEntersTheLadderAtItsRung) {
  bring_up();

  // The broker closed the connection: reopen, without touching the data connection or the radio.
  std::size_t from = h.module.commands().size();
  h.module.say("\r\n+FXCLOSED: 1\r\n");
  ASSERT_TRUE(h.run_until_ready());
  ASSERT_EQ(h.rungs.size(), 1u);
  EXPECT_EQ(h.rungs.back(), Rung::kReopen);
  auto sent = commands_since(h, from);
  EXPECT_TRUE(has(sent, "AT+FXOPEN="));
  EXPECT_FALSE(has(sent, "AT+FXDETACH"));
  EXPECT_FALSE(has(sent, "AT+FXATTACH"));
  EXPECT_FALSE(has(sent, "AT+CFUN"));
  EXPECT_EQ(h.session->info().last_close->code, 1);

  // The network dropped it: the link is checked again and the data connection cycled.
  from = h.module.commands().size();
  h.module.say("\r\n+FXCLOSED: 2\r\n");
  ASSERT_TRUE(h.run_until_ready());
  EXPECT_EQ(h.rungs.back(), Rung::kCyclePdp);
  sent = commands_since(h, from);
  EXPECT_LT(position(sent, "AT+FXDETACH=1"), position(sent, "AT+FXATTACH=1"));
  EXPECT_LT(position(sent, "AT+FXATTACH=1"), position(sent, "AT+FXOPEN="));
  EXPECT_FALSE(has(sent, "AT+CFUN"));

  // The network took the data connection: cycle it.
  from = h.module.commands().size();
  h.module.say("\r\n+FXDATALOST\r\n");
  ASSERT_TRUE(h.run_until_ready());
  EXPECT_EQ(h.rungs.back(), Rung::kCyclePdp);
  sent = commands_since(h, from);
  EXPECT_TRUE(has(sent, "AT+FXDETACH=1"));
  EXPECT_TRUE(has(sent, "AT+FXATTACH=1"));
}

TEST_F(SessionLadder, ARungThatKeepsFailingIsClimbedAfterThreeAttempts) {
  // The broker stays unreachable: every open fails at the bottom rung's level.
  h.module.on("AT+FXOPEN=", test_support::ok_reply() + "\r\n+FXOPEN: 2\r\n");
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(run_until_recoveries(11));
  const std::vector<Rung> expected = {Rung::kReopen,     Rung::kReopen,     Rung::kReopen,
                                      Rung::kCyclePdp,   Rung::kCyclePdp,   Rung::kCyclePdp,
                                      Rung::kCycleRadio, Rung::kCycleRadio, Rung::kCycleRadio,
                                      Rung::kReboot,     Rung::kReboot};
  EXPECT_EQ(std::vector<Rung>(h.rungs.begin(), h.rungs.begin() + 11), expected);
  // Each rung did what it says, once per attempt.
  EXPECT_EQ(h.module.count("AT+FXDETACH="), 3u);
  EXPECT_EQ(h.module.count("AT+CFUN=0"), 3u);
  EXPECT_EQ(h.module.count("AT+CFUN=1,1"), 1u);  // the eleventh attempt is still under way

  EXPECT_EQ(h.module.count("AT+FXOPEN="), 11u);

  // Once the broker is back, the session gets there from the top rung.
  h.module.on("AT+FXOPEN=", test_support::ok_reply() + "\r\n+FXOPEN: 0\r\n");
  ASSERT_TRUE(h.run_until_ready());
}

TEST_F(SessionLadder, ReadyForTheStablePeriodStartsTheLadderAgainAtTheBottom) {
  h.config.stable_after = 60s;
  h.module.on("AT+FXOPEN=", test_support::ok_reply() + "\r\n+FXOPEN: 2\r\n");
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(run_until_recoveries(4));
  ASSERT_EQ(h.rungs.back(), Rung::kCyclePdp);
  h.module.on("AT+FXOPEN=", test_support::ok_reply() + "\r\n+FXOPEN: 0\r\n");
  ASSERT_TRUE(h.run_until_ready());

  // Up for less than the stable period: the next trouble continues where the ladder was.
  h.advance(30s);
  h.module.say("\r\n+FXCLOSED: 1\r\n");
  ASSERT_TRUE(h.run_until_ready());
  EXPECT_EQ(h.rungs.back(), Rung::kCyclePdp);

  // Up for the whole stable period: it starts at the bottom again.
  h.advance(61s);
  const std::size_t from = h.module.commands().size();
  h.module.say("\r\n+FXCLOSED: 1\r\n");
  ASSERT_TRUE(h.run_until_ready());
  EXPECT_EQ(h.rungs.back(), Rung::kReopen);
  EXPECT_FALSE(has(commands_since(h, from), "AT+FXDETACH"));
}

TEST_F(SessionLadder, NotRegisteredInTimeCyclesTheRadioAndARegistrationGoesOn) {
  h.config.registration_timeout = 120s;
  h.module.on("AT+CEREG?", test_support::ok_reply("+CEREG: 2,2"));  // searching
  ASSERT_TRUE(h.start());
  // Still searching just before the deadline: nothing but waiting.
  h.advance(119s);
  EXPECT_EQ(h.session->state(), State::kRegistering);
  EXPECT_EQ(h.module.count("AT+CFUN"), 0u);
  ASSERT_TRUE(run_until_recoveries(1));
  EXPECT_EQ(h.rungs.back(), Rung::kCycleRadio);
  ASSERT_TRUE(h.run_until([&] { return h.module.count("AT+CFUN=1") >= 1; }, 5min));
  EXPECT_EQ(h.module.count("AT+CFUN=0"), 1u);

  // Registered by URC while waiting: the bring-up goes on at once, without another radio cycle.
  ASSERT_TRUE(h.run_until([&] { return h.session->state() == State::kRegistering; }, 5min));
  h.module.say("\r\n+CEREG: 1,\"00AA\",\"00000B01\",7\r\n");
  ASSERT_TRUE(h.run_until_ready(1min));
  EXPECT_EQ(h.module.count("AT+CFUN=0"), 1u);
}

// Issue 14: a lost +CEREG (or one sent to another port, field-notes.md 2.5) costs seconds, not the
// registration timeout and a radio cycle.
TEST_F(SessionLadder, ALostRegistrationUrcCostsSecondsNotTheTimeout) {
  h.config.registration_timeout = 120s;
  h.module.on("AT+CEREG?", test_support::ok_reply("+CEREG: 2,2"));  // searching
  ASSERT_TRUE(h.start());
  h.advance(5s);
  ASSERT_EQ(h.session->state(), State::kRegistering);
  // Registered now, but the module says nothing about it.
  h.module.on("AT+CEREG?", test_support::ok_reply("+CEREG: 2,1,\"00AA\",\"00000B01\",7"));
  const auto registered_at = h.clock.now();
  ASSERT_TRUE(h.run_until_ready(1min));
  // The poll's period had grown to 8 s by then; at most one period after the module registered.
  EXPECT_LE(h.clock.now() - registered_at, 9s);
  EXPECT_EQ(h.module.count("AT+CFUN"), 0u);
}

TEST_F(SessionLadder, TheRegistrationPollBacksOffAndCostsAFewQueries) {
  h.config.registration_timeout = 120s;
  h.module.on("AT+CEREG?", test_support::ok_reply("+CEREG: 2,2"));
  ASSERT_TRUE(h.start());
  h.advance(119s);
  // The bring-up's own query, then polls 2, 4, 8, 16, 30 and 30 s apart (at 2, 6, 14, 30, 60 and
  // 90 s): 7 queries before the timeout, not one a second.
  EXPECT_EQ(h.module.count("AT+CEREG?"), 7u);
  EXPECT_EQ(h.session->state(), State::kRegistering);
}

// Issue 14: a close report (+QMTSTAT) that never came. A quiet link is found out by the state
// query that goes with every health query; a publish whose result never comes leads to one at once.
TEST_F(SessionLadder, ALostCloseReportIsFoundByTheHealthQueryOnAQuietLink) {
  h.config.health_interval = 60s;
  bring_up();
  h.module.on("AT+FXSTATE?", test_support::ok_reply("+FXSTATE: 0"));  // gone, and nothing said so
  const auto lost_at = h.clock.now();
  ASSERT_TRUE(run_until_recoveries(1));
  EXPECT_LE(h.clock.now() - lost_at, 61s);  // within one health interval
  EXPECT_EQ(h.rungs.back(), Rung::kReopen);
  h.module.on("AT+FXSTATE?", test_support::ok_reply("+FXSTATE: 1"));
  ASSERT_TRUE(h.run_until_ready());
}

TEST_F(SessionLadder, APublishWhoseResultNeverComesLeadsToAStateQuery) {
  h.config.health_interval = 10min;  // so only the publish can start the query
  bring_up();
  h.module.set_auto_ack(false);
  h.module.on("AT+FXSTATE?", test_support::ok_reply("+FXSTATE: 0"));
  std::optional<PublishOutcome> outcome;
  const auto sent_at = h.clock.now();
  ASSERT_EQ(h.session->publish("up/t", "x", 1, false, [&](const PublishOutcome& o) { outcome = o; }),
            Admission::kAccepted);
  ASSERT_TRUE(run_until_recoveries(1));
  // The publish's completion timeout (30 s for the fake family), then one query.
  EXPECT_LE(h.clock.now() - sent_at, 31s);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status, PublishStatus::kFailed);
  EXPECT_EQ(h.module.count("AT+FXSTATE?"), 2u);  // one with the first health query, one now
}

TEST_F(SessionLadder, AMissingSimSaysWhatToDoAndIsAskedAgainWithoutClimbing) {
  test_support::LogCapture log("session", spdlog::level::info);
  h.module.on("AT+CPIN?", "\r\n+CME ERROR: 10\r\n");
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until([&] { return h.module.count("AT+CPIN?") >= 6; }, 30min));
  EXPECT_TRUE(log.contains("SIM not inserted or not detected: insert a SIM"));
  EXPECT_EQ(std::count(h.states.begin(), h.states.end(), State::kSimError), 6);
  // A SIM is not something a reset or a radio cycle brings: the ladder is never climbed.
  EXPECT_TRUE(h.rungs.empty());
  EXPECT_EQ(h.module.count("AT+CFUN"), 0u);
  EXPECT_EQ(h.module.count("AT+FXATTACH"), 0u);

  h.module.on("AT+CPIN?", test_support::ok_reply("+CPIN: READY"));
  ASSERT_TRUE(h.run_until_ready());
}

TEST_F(SessionLadder, APinLockedSimIsNamedAsSuch) {
  test_support::LogCapture log("session", spdlog::level::info);
  h.module.on("AT+CPIN?", test_support::ok_reply("+CPIN: SIM PIN"));
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until([&] { return h.session->state() == State::kSimError; }));
  EXPECT_TRUE(log.contains("SIM wants a PIN"));
  EXPECT_EQ(h.module.count("AT+CPIN="), 0u);  // never enters a PIN: a wrong one would lock the SIM
}

TEST_F(SessionLadder, ARefusedConnectNeverClimbsAndSaysWhatToCheck) {
  test_support::LogCapture log("session", spdlog::level::info);
  h.module.on("AT+FXCONN=", test_support::ok_reply() + "\r\n+FXCONN: 0,5\r\n");  // not authorised
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(run_until_recoveries(10));
  for (const Rung rung : h.rungs)
    EXPECT_EQ(rung, Rung::kReopen);
  EXPECT_EQ(h.module.count("AT+FXDETACH"), 0u);
  EXPECT_EQ(h.module.count("AT+CFUN"), 0u);
  EXPECT_TRUE(log.contains("check client_id, username and password for broker.example.com:1883"));
}

TEST_F(SessionLadder, ARestartOutOfTheBlueIsABringUpFromTheStartAndFailsWhatWasInFlight) {
  bring_up();
  h.module.set_auto_ack(false);
  std::optional<PublishOutcome> outcome;
  ASSERT_EQ(h.session->publish("up/t", "x", 1, false, [&](const PublishOutcome& o) { outcome = o; }),
            Admission::kAccepted);
  h.pump();
  const std::size_t from = h.module.commands().size();
  const std::size_t states_before = h.states.size();
  h.module.say("\r\nRDY\r\n");
  ASSERT_TRUE(h.run_until_ready());
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status, PublishStatus::kFailed);
  ASSERT_GT(h.states.size(), states_before);
  EXPECT_EQ(h.states[states_before], State::kProbing);
  const auto sent = commands_since(h, from);
  EXPECT_EQ(sent.front(), "AT");
  EXPECT_TRUE(has(sent, "ATI"));
  EXPECT_TRUE(has(sent, "AT+FXATTACH=1"));  // everything the module knew is gone
  EXPECT_FALSE(has(sent, "AT+CFUN"));
  EXPECT_TRUE(h.rungs.empty());  // not a failure of ours: no recovery counted
}

TEST_F(SessionLadder, AMuteModuleClimbsOneRungPerThreeSilentAttemptsAndComesBackWhenItAnswers) {
  test_support::LogCapture log("session", spdlog::level::info);
  h.module.clear();  // answers nothing at all
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(run_until_recoveries(10));
  // Each silent attempt counts once (the channel's resync aborting the attempt's command is the
  // same failure, not a second one), so the ladder is climbed at its designed pace.
  const std::vector<Rung> expected = {
      Rung::kReopen,   Rung::kReopen,     Rung::kReopen,     Rung::kCyclePdp,   Rung::kCyclePdp,
      Rung::kCyclePdp, Rung::kCycleRadio, Rung::kCycleRadio, Rung::kCycleRadio, Rung::kReboot};
  EXPECT_EQ(h.rungs, expected);
  // A module that never answered was never identified: the lower rungs can only probe it again,
  // and nothing but probes reaches a module that answers nothing.
  EXPECT_EQ(std::count(h.states.begin(), h.states.end(), State::kProbing), 10);
  EXPECT_EQ(h.module.count("AT+CFUN"), 0u);
  EXPECT_TRUE(log.contains("if this persists it needs a power cycle"));

  answer_like_fake_family(h.module);
  h.module.say("\r\nRDY\r\n");
  ASSERT_TRUE(h.run_until_ready());
}

TEST_F(SessionLadder, AFailedDataConnectionClimbsFromTheDataRung) {
  h.module.on("AT+FXATTACH=", "\r\nERROR\r\n");
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(run_until_recoveries(4));
  EXPECT_EQ(std::vector<Rung>(h.rungs.begin(), h.rungs.begin() + 4),
            (std::vector<Rung>{Rung::kCyclePdp, Rung::kCyclePdp, Rung::kCyclePdp, Rung::kCycleRadio}));
  h.module.on("AT+FXATTACH=", test_support::ok_reply());
  ASSERT_TRUE(h.run_until_ready());
}

}  // namespace
}  // namespace modem::session
