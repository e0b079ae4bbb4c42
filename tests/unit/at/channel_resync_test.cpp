// Timeouts and resynchronisation: after a command gets no answer the channel waits for the line
// to go quiet, probes with AT, waits for quiet again, and only then sends the next command, so a
// late reply is never taken for another command's answer.
#include <gtest/gtest.h>

#include "modem/at/channel.hpp"
#include "support/channel_harness.hpp"

namespace modem::at {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test_support::ChannelHarness;
using test_support::command;
using test_support::for_every_chunk_size;

ChannelConfig resync_config() {
  ChannelConfig config;
  config.resync_quiet = milliseconds(100);
  config.probe_timeout = seconds(1);
  return config;
}

Command with_timeout(std::string text, Duration timeout, std::vector<std::string> prefixes = {}) {
  Command c = command(std::move(text));
  c.timeout = timeout;
  c.response_prefixes = std::move(prefixes);
  return c;
}

TEST(ChannelResync, LateReplyToATimedOutCommandIsNotTakenForTheNextOne) {
  for_every_chunk_size(
      [](ChannelHarness& h) {
        // EC200U: "QIACT sometimes silently fails" and a stale OK "must not be mistaken for
        // QIACT's OK" (field-notes.md 2.4).
        auto qiact = h.submit(with_timeout("AT+QIACT=1", seconds(30)));
        auto csq = h.submit(with_timeout("AT+CSQ", seconds(1), {"+CSQ:"}));
        h.advance(seconds(30));
        ASSERT_TRUE(qiact->has_value());
        EXPECT_EQ((*qiact)->code, ResultCode::kTimeout);
        EXPECT_EQ(h.timeout_reports, std::vector<unsigned>{1});
        EXPECT_EQ(h.stream.written(), "AT+QIACT=1\r");  // AT+CSQ held back while resynchronising

        h.advance(milliseconds(50));
        h.module_says("\r\nOK\r\n");  // QIACT's late answer
        h.advance(milliseconds(60));  // 110 ms since the start, but only 60 since the late OK
        EXPECT_EQ(h.stream.written(), "AT+QIACT=1\r");
        h.peer.on("AT+QIACT=1\rAT\r", "\r\nOK\r\n");
        h.advance(milliseconds(40));  // quiet for 100 ms: probe
        EXPECT_EQ(h.stream.written(), "AT+QIACT=1\rAT\r");
        h.peer.on("AT+CSQ\r", "\r\n+CSQ: 18,99\r\n\r\nOK\r\n");
        h.advance(milliseconds(100));  // quiet after the probe's OK: resume
        ASSERT_TRUE(csq->has_value());
        EXPECT_EQ((*csq)->code, ResultCode::kOk);
        EXPECT_EQ((*csq)->lines, std::vector<std::string>{"+CSQ: 18,99"});
        EXPECT_EQ(h.stream.written(), "AT+QIACT=1\rAT\rAT+CSQ\r");
        EXPECT_EQ(h.channel.consecutive_timeouts(), 0u);
        EXPECT_EQ(h.channel.stats().stale_finals, 1u);
      },
      resync_config());
}

TEST(ChannelResync, ALateReplyAfterTheProbeIsAbsorbedBySettling) {
  for_every_chunk_size(
      [](ChannelHarness& h) {
        // Worst case: the late OK arrives only after the probe went out, so two OKs follow the probe.
        auto slow = h.submit(with_timeout("AT+QIDEACT=1", seconds(1)));
        auto next = h.submit(with_timeout("AT+CSQ", seconds(1), {"+CSQ:"}));
        h.advance(seconds(1));
        h.advance(milliseconds(100));
        EXPECT_EQ(h.stream.written(), "AT+QIDEACT=1\rAT\r");
        h.module_says("\r\nOK\r\n\r\nOK\r\n");  // QIDEACT's late OK, then the probe's
        h.advance(milliseconds(99));
        EXPECT_EQ(h.stream.written(), "AT+QIDEACT=1\rAT\r");
        h.peer.on("AT+QIDEACT=1\rAT\rAT+CSQ\r", "\r\n+CSQ: 5,99\r\n\r\nOK\r\n");
        h.advance(milliseconds(1));
        ASSERT_TRUE(next->has_value());
        EXPECT_EQ((*next)->lines, std::vector<std::string>{"+CSQ: 5,99"});
        EXPECT_TRUE(h.peer.done());
      },
      resync_config());
}

TEST(ChannelResync, AMuteModuleCountsConsecutiveTimeoutsUntilItAnswers) {
  ChannelHarness h(4096, resync_config());
  auto r = h.submit(with_timeout("AT+CREG?", seconds(1)));
  h.advance(seconds(1));         // command timeout: 1
  h.advance(milliseconds(100));  // probe sent
  h.advance(seconds(1));         // probe timeout: 2
  h.advance(milliseconds(100));  // probe again
  h.advance(seconds(1));         // 3
  EXPECT_EQ(h.timeout_reports, (std::vector<unsigned>{1, 2, 3}));
  EXPECT_EQ(h.channel.consecutive_timeouts(), 3u);
  EXPECT_EQ(h.stream.written(), "AT+CREG?\rAT\rAT\r");
  h.advance(milliseconds(100));  // third probe
  h.module_says("\r\nOK\r\n");
  EXPECT_EQ(h.channel.consecutive_timeouts(), 0u);  // it answers: the run of silence is over
  h.advance(milliseconds(100));
  h.peer.on("AT+CREG?\rAT\rAT\rAT\rAT\r", "\r\nOK\r\n");
  auto next = h.submit(command("AT"));
  h.pump();
  ASSERT_TRUE(next->has_value());
  EXPECT_TRUE((*next)->ok());
  EXPECT_EQ(h.channel.consecutive_timeouts(), 0u);
  EXPECT_EQ(h.channel.stats().resyncs, 1u);
}

TEST(ChannelResync, NoPromptMeansTheProbeStartsWithEscapeAndThePayloadIsNeverSent) {
  ChannelHarness h(4096, resync_config());
  Command pub = command("AT+QMTPUBEX=0,1,1,0,\"t\",4");
  pub.payload = "data";
  pub.timeout = seconds(5);
  auto r = h.submit(pub);
  h.advance(seconds(5));
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->code, ResultCode::kTimeout);
  h.advance(milliseconds(100));
  // The module may still be waiting for 4 data bytes; ESC cancels that before the probe.
  EXPECT_EQ(h.stream.written(),
            "AT+QMTPUBEX=0,1,1,0,\"t\",4\r\x1b"
            "AT\r");
  // A prompt that turns up now is not answered with the payload.
  h.module_says("\r\n> ");
  EXPECT_EQ(h.stream.written().find("data"), std::string::npos);
}

TEST(ChannelResync, AMissingCompletionIsATimeoutButNotAStuckChannel) {
  ChannelHarness h(4096, resync_config());
  Command open = command("AT+QMTOPEN=0,\"broker\",1883");
  open.completion = Completion{"+QMTOPEN:", {}, seconds(120)};
  h.peer.on(open.text + "\r", "\r\nOK\r\n");
  auto opened = h.submit(open);
  h.pump();
  h.advance(seconds(120));
  ASSERT_TRUE(opened->has_value());
  EXPECT_EQ((*opened)->code, ResultCode::kTimeout);
  EXPECT_TRUE((*opened)->accepted);
  EXPECT_EQ(h.channel.consecutive_timeouts(), 0u);
  EXPECT_EQ(h.channel.stats().resyncs, 0u);
  h.peer.on("AT+CSQ\r", "\r\nOK\r\n");
  auto next = h.submit(command("AT+CSQ"));  // goes out at once: no resync needed
  h.pump();
  EXPECT_TRUE(next->has_value());
}

TEST(ChannelResync, UrcsDuringResyncAreStillDelivered) {
  for_every_chunk_size(
      [](ChannelHarness& h) {
        std::vector<std::string> urcs;
        h.channel.urcs().add("+QIURC:", [&](std::string_view l) { urcs.emplace_back(l); });
        h.channel.urcs().add("RDY", [&](std::string_view l) { urcs.emplace_back(l); });
        auto r = h.submit(with_timeout("AT+CFUN=1,1", seconds(1)));
        h.advance(seconds(1));
        // field-notes.md 1.6: after a reset, "POWERED DOWN", pdpdeact, silence, RDY
        h.module_says("\r\nPOWERED DOWN\r\n\r\n+QIURC: \"pdpdeact\",1\r\n");
        h.advance(milliseconds(100));
        h.module_says("\r\nRDY\r\n");
        EXPECT_EQ(urcs, (std::vector<std::string>{"+QIURC: \"pdpdeact\",1", "RDY"}));
      },
      resync_config());
}

}  // namespace
}  // namespace modem::at

namespace modem::at {
namespace {

TEST(ChannelResync, AbortAllDoesNotCutAResyncShort) {
  ChannelHarness h(4096, resync_config());
  auto r = h.submit(with_timeout("AT+CSQ", seconds(1)));
  h.advance(seconds(1));  // timeout: resync starts
  auto queued = h.submit(command("AT+CGMM"));
  h.channel.abort_all();
  ASSERT_TRUE(queued->has_value());
  auto next = h.submit(command("AT+CGMR"));
  EXPECT_EQ(h.stream.written(), "AT+CSQ\r");  // still waiting for quiet, not sending
  h.advance(milliseconds(100));
  EXPECT_EQ(h.stream.written(), "AT+CSQ\rAT\r");
}

TEST(ChannelResync, ARestartedModuleEndsTheResyncWithoutAnotherTimeout) {
  // Seen in the recovery benchmark: the module reboots, a command times out, the resync probes the
  // booting module (which drops its input), RDY arrives, and the dropped probe's timeout then
  // counted as one more silence: the session climbed its ladder and waited 2 s for nothing.
  ChannelHarness h(4096, resync_config());
  auto csq = h.submit(with_timeout("AT+CSQ", seconds(1)));
  h.advance(seconds(1));         // timeout: resync starts
  h.advance(milliseconds(100));  // quiet: probe, into the booting module
  EXPECT_EQ(h.stream.written(), "AT+CSQ\rAT\r");
  h.module_says("\r\nRDY\r\n");
  h.channel.module_restarted();
  EXPECT_EQ(h.channel.consecutive_timeouts(), 0u);
  auto probe = h.submit(command("AT"));  // the session starts over with its own probe
  h.advance(milliseconds(99));
  EXPECT_EQ(h.stream.written(), "AT+CSQ\rAT\r");  // the boot's URCs get their quiet first
  h.peer.on("AT+CSQ\rAT\rAT\r", "\r\nOK\r\n");
  h.advance(milliseconds(1));
  ASSERT_TRUE(probe->has_value());
  EXPECT_EQ((*probe)->code, ResultCode::kOk);
  h.advance(seconds(2));                                   // well past the dropped probe's deadline
  EXPECT_EQ(h.timeout_reports, std::vector<unsigned>{1});  // only AT+CSQ's
  EXPECT_EQ(h.channel.consecutive_timeouts(), 0u);
}

TEST(ChannelResync, CancelledCompletionsEndAbortedAndOthersStay) {
  ChannelHarness h(4096, resync_config());
  Command pub = command("AT+QMTPUBEX=0,1,1,0,\"t\",1");
  pub.payload = "x";
  pub.completion = Completion{"+QMTPUBEX:", {}, seconds(20)};
  Command open = command("AT+QMTOPEN=0,\"b\",1883");
  open.completion = Completion{"+QMTOPEN:", {}, seconds(120)};
  h.peer.on(pub.text + "\r", "\r\n> ").on("x", "\r\nOK\r\n").on(open.text + "\r", "\r\nOK\r\n");
  auto published = h.submit(pub);
  auto opened = h.submit(open);
  h.pump();
  h.channel.cancel_completions("+QMTPUBEX:");
  ASSERT_TRUE(published->has_value());
  EXPECT_EQ((*published)->code, ResultCode::kAborted);
  EXPECT_FALSE(opened->has_value());
  EXPECT_EQ(h.channel.awaiting_completion(), 1u);
}

}  // namespace
}  // namespace modem::at
