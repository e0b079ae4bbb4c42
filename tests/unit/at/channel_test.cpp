// The AT channel against a scripted module, every scenario replayed in every read chunk size.
#include "modem/at/channel.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <spdlog/sinks/ostream_sink.h>

#include <functional>
#include <sstream>

#include "modem/log.hpp"
#include "support/channel_harness.hpp"

namespace modem::at {
namespace {

using namespace std::string_literals;

using test_support::ChannelHarness;
using test_support::command;
using test_support::for_every_chunk_size;

TEST(Channel, OkWithItsIntermediateLines) {
  for_every_chunk_size([](ChannelHarness& h) {
    h.peer.on("AT+CSQ\r", "\r\n+CSQ: 28,0\r\n\r\nOK\r\n");
    auto c = command("AT+CSQ");
    c.response_prefixes = {"+CSQ:"};
    auto result = h.submit(c);
    h.pump();
    ASSERT_TRUE(result->has_value());
    EXPECT_EQ((*result)->code, ResultCode::kOk);
    EXPECT_EQ((*result)->lines, std::vector<std::string>{"+CSQ: 28,0"});
    EXPECT_TRUE(h.peer.done());
    EXPECT_TRUE(h.unsolicited.empty());
  });
}

TEST(Channel, ErrorAndCmeErrorWithItsNumber) {
  for_every_chunk_size([](ChannelHarness& h) {
    // field-notes.md 1.1: QIACT on an active context answers a bare ERROR; 1.13: +CME ERROR: 50
    h.peer.on("AT+QIACT=1\r", "\r\nERROR\r\n").on("AT+QCFG=\"usbnet\",0\r", "\r\n+CME ERROR: 50\r\n");
    auto first = h.submit(command("AT+QIACT=1"));
    auto second = h.submit(command("AT+QCFG=\"usbnet\",0"));
    h.pump();
    ASSERT_TRUE(first->has_value() && second->has_value());
    EXPECT_EQ((*first)->code, ResultCode::kError);
    EXPECT_EQ((*second)->code, ResultCode::kCmeError);
    EXPECT_EQ((*second)->error_code, 50);
    EXPECT_EQ((*second)->final_line, "+CME ERROR: 50");
  });
}

TEST(Channel, CommandsGoOutOneAtATimeInOrder) {
  ChannelHarness h(4096);
  auto a = h.submit(command("AT+CGMM"));
  auto b = h.submit(command("AT+CGMR"));
  EXPECT_EQ(h.stream.written(), "AT+CGMM\r");  // the second waits for the first's final result
  EXPECT_EQ(h.channel.queued(), 1u);
  h.module_says("\r\nOK\r\n");
  EXPECT_EQ(h.stream.written(), "AT+CGMM\rAT+CGMR\r");
  h.module_says("\r\nOK\r\n");
  EXPECT_TRUE(a->has_value() && b->has_value());
  EXPECT_TRUE(h.channel.idle());
}

TEST(Channel, UrcsMidResponseAreDispatchedAndNeverCorruptTheAnswer) {
  for_every_chunk_size([](ChannelHarness& h) {
    std::vector<std::string> urcs;
    h.channel.urcs().add("+QIND:", [&](std::string_view l) { urcs.emplace_back(l); });
    h.channel.urcs().add("+QMTSTAT:", [&](std::string_view l) { urcs.emplace_back(l); });
    h.channel.urcs().add("+QIURC:", [&](std::string_view l) { urcs.emplace_back(l); });
    // field-notes.md 1.4: boot URCs land inside unrelated responses; 2.5: a URC that contains the
    // word ERROR must not fail the command.
    h.peer.on("AT+COPS?\r",
              "\r\n+QIND: SMS DONE\r\n\r\n+COPS: 0,0,\"SGP-M1\",2\r\n\r\n+QIURC: \"ERROR\",1\r\n"
              "\r\n+QMTSTAT: 0,1\r\n\r\nOK\r\n\r\n+QIND: PB DONE\r\n");
    auto c = command("AT+COPS?");
    c.response_prefixes = {"+COPS:"};
    auto result = h.submit(c);
    h.pump();
    ASSERT_TRUE(result->has_value());
    EXPECT_EQ((*result)->code, ResultCode::kOk);
    EXPECT_EQ((*result)->lines, std::vector<std::string>{"+COPS: 0,0,\"SGP-M1\",2"});
    EXPECT_EQ(urcs, (std::vector<std::string>{"+QIND: SMS DONE", "+QIURC: \"ERROR\",1", "+QMTSTAT: 0,1",
                                              "+QIND: PB DONE"}));
  });
}

TEST(Channel, EchoIsToleratedAndPlainLinesAnswerIdentityCommands) {
  for_every_chunk_size([](ChannelHarness& h) {
    // ATE1 is the default after boot: "AT+CGMR\r" comes back before the answer (field-notes.md 1.1).
    h.peer.on("AT+CGMR\r", "AT+CGMR\r\r\nEC200UCNAAR02A05M08\r\n\r\nOK\r\n")
        .on("ATE0\r", "ATE0\r\r\nOK\r\n")
        .on("ATI\r", "\r\nQuectel\r\nEC200U\r\nRevision: EC200UCNAAR02A05M08\r\n\r\nOK\r\n");
    auto cgmr = command("AT+CGMR");
    cgmr.plain_lines = true;
    auto ati = command("ATI");
    ati.plain_lines = true;
    auto r1 = h.submit(cgmr);
    auto r2 = h.submit(command("ATE0"));
    auto r3 = h.submit(ati);
    h.pump();
    ASSERT_TRUE(r1->has_value() && r2->has_value() && r3->has_value());
    EXPECT_EQ((*r1)->lines, std::vector<std::string>{"EC200UCNAAR02A05M08"});
    EXPECT_TRUE((*r2)->ok());
    EXPECT_EQ((*r3)->lines, (std::vector<std::string>{"Quectel", "EC200U", "Revision: EC200UCNAAR02A05M08"}));
    EXPECT_EQ(h.channel.stats().echoes, 2u);
  });
}

TEST(Channel, LinesOfNoOneAreCountedNotTakenAsAnswers) {
  for_every_chunk_size([](ChannelHarness& h) {
    // Without plain_lines, a bare line mid-response (field-notes.md 2.5: a 15-digit line taken
    // for an IMSI) is not part of the answer.
    h.peer.on("AT+CSQ\r", "\r\n460001234567890\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
    auto c = command("AT+CSQ");
    c.response_prefixes = {"+CSQ:"};
    auto result = h.submit(c);
    h.pump();
    ASSERT_TRUE(result->has_value());
    EXPECT_EQ((*result)->lines, std::vector<std::string>{"+CSQ: 20,99"});
    EXPECT_EQ(h.unsolicited, std::vector<std::string>{"460001234567890"});
  });
}

const std::string kNastyPayload = "{\"a\":\"x,y\"}\r\nOK\r\n\"\x00\x1a\xff\x80>"s;

Command publish(int msgid, const std::string& payload) {
  Command c;
  c.text = "AT+QMTPUBEX=0," + std::to_string(msgid) + ",1,0,\"t\"," + std::to_string(payload.size());
  c.payload = payload;
  const std::string mine = "+QMTPUBEX: 0," + std::to_string(msgid) + ",";
  c.completion = Completion{"+QMTPUBEX:", [mine](std::string_view l) { return l.starts_with(mine); },
                            std::chrono::seconds(15)};
  return c;
}

TEST(Channel, PayloadGoesOutByteExactAfterThePrompt) {
  ASSERT_EQ(kNastyPayload.size(), 23u);
  for_every_chunk_size([](ChannelHarness& h) {
    const Command c = publish(1, kNastyPayload);
    h.peer.on(c.text + "\r", "\r\n> ").on(kNastyPayload, "\r\nOK\r\n\r\n+QMTPUBEX: 0,1,0\r\n");
    auto result = h.submit(c);
    h.pump();
    EXPECT_EQ(h.stream.written(), c.text + "\r" + kNastyPayload);  // nothing else, nothing before the prompt
    ASSERT_TRUE(result->has_value());
    EXPECT_EQ((*result)->code, ResultCode::kOk);
    EXPECT_EQ((*result)->completion, "+QMTPUBEX: 0,1,0");
    EXPECT_TRUE(h.unsolicited.empty());
  });
}

TEST(Channel, PayloadIsNotSentWhenTheModuleRefusesInsteadOfPrompting) {
  for_every_chunk_size([](ChannelHarness& h) {
    // A sixth QoS 1 publish beyond the in-flight window of 5 is answered ERROR (EC2x MQTT AN 3.3.7).
    const Command c = publish(6, "data");
    h.peer.on(c.text + "\r", "\r\nERROR\r\n");
    auto result = h.submit(c);
    h.pump();
    EXPECT_EQ(h.stream.written(), c.text + "\r");
    ASSERT_TRUE(result->has_value());
    EXPECT_EQ((*result)->code, ResultCode::kError);
  });
}

TEST(Channel, EchoedPayloadIsNotMistakenForAResult) {
  for_every_chunk_size([](ChannelHarness& h) {
    // field-notes.md 1.1: with ATE1 the payload comes back before OK. This one contains "OK" and
    // "ERROR" lines that must not end the command.
    const std::string payload = "a\r\nERROR\r\nOK\r\n";
    const Command c = publish(2, payload);
    h.peer.on(c.text + "\r", c.text + "\r\r\n> ").on(payload, payload + "\r\nOK\r\n\r\n+QMTPUBEX: 0,2,0\r\n");
    auto result = h.submit(c);
    h.pump();
    ASSERT_TRUE(result->has_value());
    EXPECT_EQ((*result)->code, ResultCode::kOk);
    EXPECT_EQ((*result)->completion, "+QMTPUBEX: 0,2,0");
    EXPECT_TRUE(h.unsolicited.empty());
    EXPECT_EQ(h.channel.stats().stale_finals, 0u);
  });
}

// Quectel's file upload (AT+QFUPL, field-notes.md 3.1): the module answers a CONNECT line, then
// takes exactly <size> raw bytes. Bytes that read like results or prompts are data, and nothing
// goes out before CONNECT.
TEST(Channel, UploadGoesOutByteExactAfterConnect) {
  const std::string pem = "-----BEGIN X-----\n> OK\r\nERROR\n-----END X-----\n";
  for_every_chunk_size([&pem](ChannelHarness& h) {
    Command c = command("AT+QFUPL=\"UFS:a.pem\"," + std::to_string(pem.size()) + ",100");
    c.response_prefixes = {"+QFUPL:"};
    c.payload = pem;
    c.prompt = Prompt::kConnect;
    c.secret_payload = true;
    h.peer.on(c.text + "\r", "\r\nCONNECT\r\n").on(pem, "\r\n+QFUPL: 40,1a2b\r\n\r\nOK\r\n");
    auto result = h.submit(c);
    h.pump();
    EXPECT_EQ(h.stream.written(), c.text + "\r" + pem);
    ASSERT_TRUE(result->has_value());
    EXPECT_EQ((*result)->code, ResultCode::kOk);
    EXPECT_EQ((*result)->lines, std::vector<std::string>{"+QFUPL: 40,1a2b"});
    EXPECT_TRUE(h.unsolicited.empty());
  });
}

TEST(Channel, UploadIsNotSentWhenTheModuleRefuses) {
  for_every_chunk_size([](ChannelHarness& h) {
    Command c = command("AT+QFUPL=\"UFS:a.pem\",4,100");
    c.payload = "data";
    c.prompt = Prompt::kConnect;
    h.peer.on(c.text + "\r", "\r\n+CME ERROR: 407\r\n");  // the file exists
    auto result = h.submit(c);
    h.pump();
    EXPECT_EQ(h.stream.written(), c.text + "\r");
    ASSERT_TRUE(result->has_value());
    EXPECT_EQ((*result)->code, ResultCode::kCmeError);
    EXPECT_EQ((*result)->error_code, 407);
  });
}

TEST(Channel, TwoPhaseCommandDoesNotHoldUpTheQueue) {
  for_every_chunk_size([](ChannelHarness& h) {
    Command open = command("AT+QMTOPEN=0,\"broker\",1883");
    open.completion =
        Completion{"+QMTOPEN:", [](std::string_view l) { return l.starts_with("+QMTOPEN: 0,"); },
                   std::chrono::seconds(120)};
    Command csq = command("AT+CSQ");
    csq.response_prefixes = {"+CSQ:"};
    h.peer.on(open.text + "\r", "\r\nOK\r\n").on("AT+CSQ\r", "\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
    auto opened = h.submit(open);
    auto signal = h.submit(csq);
    h.pump();
    ASSERT_TRUE(signal->has_value());  // answered while +QMTOPEN is still awaited
    EXPECT_FALSE(opened->has_value());
    EXPECT_EQ(h.channel.awaiting_completion(), 1u);
    h.module_says("\r\n+QMTOPEN: 0,0\r\n");
    ASSERT_TRUE(opened->has_value());
    EXPECT_EQ((*opened)->code, ResultCode::kOk);
    EXPECT_TRUE((*opened)->accepted);
    EXPECT_EQ((*opened)->completion, "+QMTOPEN: 0,0");
  });
}

TEST(Channel, CompletionThatArrivesBeforeTheOkStillCompletes) {
  for_every_chunk_size([](ChannelHarness& h) {
    Command disc = command("AT+QMTDISC=0");
    disc.completion = Completion{"+QMTDISC:", {}, std::chrono::seconds(30)};
    h.peer.on("AT+QMTDISC=0\r", "\r\n+QMTDISC: 0,0\r\n\r\nOK\r\n");
    auto result = h.submit(disc);
    h.pump();
    ASSERT_TRUE(result->has_value());
    EXPECT_EQ((*result)->completion, "+QMTDISC: 0,0");
  });
}

TEST(Channel, PipelinedPublishesEachGetTheirOwnCompletion) {
  for_every_chunk_size([](ChannelHarness& h) {
    std::vector<std::shared_ptr<std::optional<Result>>> results;
    for (int id = 1; id <= 5; ++id) {
      const Command c = publish(id, "m" + std::to_string(id));
      h.peer.on(c.text + "\r", "\r\n> ").on("m" + std::to_string(id), "\r\nOK\r\n");
      results.push_back(h.submit(c));
    }
    h.pump();
    EXPECT_EQ(h.channel.awaiting_completion(), 5u);  // all five written before any PUBACK
    // PUBACKs in another order, one a retransmission (result 1 with a count: field-notes.md 2.2).
    h.module_says("\r\n+QMTPUBEX: 0,3,0\r\n\r\n+QMTPUBEX: 0,1,1,2\r\n\r\n+QMTPUBEX: 0,5,0\r\n");
    h.module_says("\r\n+QMTPUBEX: 0,2,2\r\n\r\n+QMTPUBEX: 0,4,0\r\n");
    const char* expected[] = {"+QMTPUBEX: 0,1,1,2", "+QMTPUBEX: 0,2,2", "+QMTPUBEX: 0,3,0",
                              "+QMTPUBEX: 0,4,0", "+QMTPUBEX: 0,5,0"};
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(results[i]->has_value()) << i;
      EXPECT_EQ((*results[i])->completion, expected[i]);
    }
  });
}

TEST(Channel, GarbageOnTheLineIsCountedAndTheNextAnswerStillParses) {
  for_every_chunk_size([](ChannelHarness& h) {
    h.peer.on("AT\r", "\x13\xfe\x00\x7f noise\r\n\r\nOK\r\n"s);
    auto result = h.submit(command("AT"));
    h.pump();
    ASSERT_TRUE(result->has_value());
    EXPECT_EQ((*result)->code, ResultCode::kOk);
    EXPECT_EQ(h.unsolicited.size(), 1u);
  });
}

TEST(Channel, LateFinalWithNothingInFlightIsDropped) {
  ChannelHarness h(3);
  h.module_says("\r\nOK\r\n");
  EXPECT_EQ(h.channel.stats().stale_finals, 1u);
  h.peer.on("AT+CSQ\r", "\r\nOK\r\n");
  auto r = h.submit(command("AT+CSQ"));
  h.pump();
  ASSERT_TRUE(r->has_value());
  EXPECT_TRUE((*r)->ok());
}

// A reader for "+QMTRECV: <len>,"<payload>"": one reading, or two when the prefix holds a second
// length ("+QMTRECV: 4,9,"...": the 4 and the 9 are both readings).
LineEnds length_reader(std::string_view segment, char) {
  LineEnds ends;
  std::size_t i = 10;
  while (i < segment.size() && segment[i] >= '0' && segment[i] <= '9') {
    std::size_t n = 0;
    while (i < segment.size() && segment[i] >= '0' && segment[i] <= '9')
      n = n * 10 + static_cast<std::size_t>(segment[i++] - '0');
    if (i >= segment.size() || segment[i] != ',') break;
    ++i;
    ends.readings.push_back({segment.size() + n, '"'});
  }
  return ends;
}

TEST(Channel, ALineReaderLetsAPayloadCarryLineEnds) {
  for_every_chunk_size([](ChannelHarness& h) {
    h.channel.add_line_reader("+QMTRECV:", length_reader);
    std::vector<std::string> received;
    h.channel.urcs().add("+QMTRECV:", [&](std::string_view l) { received.emplace_back(l); });
    h.channel.urcs().add("+QMTSTAT:", [&](std::string_view l) { received.emplace_back(l); });
    // 20 bytes after the first segment ("+QMTRECV: 20,\"l"): CR LF, a fake OK and URC, the quote.
    const std::string urc = "+QMTRECV: 20,\"l\r\nOK\r\n+QMTSTAT: 0,1\"";
    ASSERT_EQ(urc.size(), 15u + 20u);
    h.module_says("\r\n" + urc + "\r\n");
    EXPECT_EQ(received, std::vector<std::string>{urc});
    EXPECT_EQ(h.channel.stats().stale_finals, 0u);
  });
}

TEST(Channel, ALineOnlySilenceCanDecideIsDecidedAfterLineQuiet) {
  ChannelHarness h(4096);
  h.channel.add_line_reader("+QMTRECV:", length_reader);
  std::vector<std::string> received;
  h.channel.urcs().add("+QMTRECV:", [&](std::string_view l) { received.emplace_back(l); });
  // Readings of 4 and 40 bytes after "+QMTRECV: 4,40,\"": the 4-byte one is right at once, the
  // 40-byte one waits.
  const std::string urc = "+QMTRECV: 4,40,\"\r\na\"";
  ASSERT_EQ(urc.size(), 16u + 4u);
  h.module_says("\r\n" + urc + "\r\n\r\nOK\r\n");
  EXPECT_TRUE(received.empty());
  ASSERT_TRUE(h.channel.next_deadline().has_value());
  EXPECT_EQ(*h.channel.next_deadline(), h.clock.now() + ChannelConfig{}.line_quiet);
  h.advance(ChannelConfig{}.line_quiet - std::chrono::milliseconds(1));
  EXPECT_TRUE(received.empty());
  h.advance(std::chrono::milliseconds(1));
  EXPECT_EQ(received, std::vector<std::string>{urc});
  EXPECT_EQ(h.channel.stats().stale_finals, 1u);  // the OK after it, framed afresh
  EXPECT_FALSE(h.channel.next_deadline().has_value());
}

TEST(Channel, BytesThatCannotBeFramedAreReportedAndNothingOfThemIsALine) {
  ChannelHarness h(7);
  h.channel.add_line_reader("+QMTRECV:", length_reader);
  std::vector<std::string> lines;
  h.channel.urcs().add("+QMTRECV:", [&](std::string_view l) { lines.emplace_back(l); });
  h.channel.urcs().add("+QMTSTAT:", [&](std::string_view l) { lines.emplace_back(l); });
  std::vector<std::pair<std::string, std::size_t>> reports;
  h.channel.on_unframeable([&](std::string_view prefix, std::size_t n) { reports.emplace_back(prefix, n); });
  // Both readings (4 and 20 bytes after "+QMTRECV: 4,20,\"") end in a quote and a line end.
  const std::string bad = "+QMTRECV: 4,20,\"\r\na\"\r\n+QMTSTAT: 0,1\"\r\n\r\n+QMTSTAT: 0,2\r\n";
  ASSERT_EQ(bad.find("0,1\"") + 4, 16u + 20u);
  h.module_says("\r\n" + bad);
  h.advance(ChannelConfig{}.line_quiet);
  h.module_says("\r\n+QMTSTAT: 0,5\r\n");
  // The +QMTSTAT inside the doubtful line is not passed on; the one after it, which both framings
  // have, is.
  EXPECT_EQ(lines, (std::vector<std::string>{"+QMTSTAT: 0,2", "+QMTSTAT: 0,5"}));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].first, "+QMTRECV:");
  EXPECT_EQ(reports[0].second, 16u + 20u);
  EXPECT_EQ(h.channel.stats().unframeable, 1u);
  EXPECT_TRUE(h.unsolicited.empty());
}

TEST(Channel, AFullQueueRefusesCommandsInsteadOfGrowing) {
  ChannelConfig config;
  config.max_queued = 3;
  ChannelHarness h(4096, config);
  auto in_flight = h.submit(command("AT+CSQ"));
  std::vector<std::shared_ptr<std::optional<Result>>> queued;
  for (int i = 0; i < 3; ++i)
    queued.push_back(h.submit(command("AT+QMTRECV=0," + std::to_string(i))));
  auto refused = h.submit(command("AT+QMTRECV=0,4"));
  ASSERT_TRUE(refused->has_value());
  EXPECT_EQ((*refused)->code, ResultCode::kAborted);
  EXPECT_EQ(h.channel.queued(), 3u);
  EXPECT_EQ(h.channel.stats().refused, 1u);
  for (const auto& q : queued)
    EXPECT_FALSE(q->has_value());
  EXPECT_EQ(h.stream.written(), "AT+CSQ\r");
}

TEST(Channel, RawBlockAfterALineGoesToItsReader) {
  for_every_chunk_size([](ChannelHarness& h) {
    std::string data;
    h.channel.urcs().add("+QIRD:",
                         [&](std::string_view) { h.channel.read_raw(6, [&](std::string d) { data = d; }); });
    h.module_says("\r\n+QIRD: 6\r\n\x00\r\nOK\xff\r\n"s);
    EXPECT_EQ(data, "\x00\r\nOK\xff"s);
    EXPECT_TRUE(h.unsolicited.empty());
  });
}

TEST(Channel, WritesThatDoNotFitAreFinishedWhenTheFdIsWritable) {
  ChannelHarness h(4096);
  h.stream.limit_writes(3);
  auto r = h.submit(command("AT+CSQ"));
  EXPECT_EQ(h.stream.written(), "AT+");
  EXPECT_NE(h.channel.poll_events() & POLLOUT, 0);
  h.stream.limit_writes(100);
  h.channel.handle_writable();
  EXPECT_EQ(h.stream.written(), "AT+CSQ\r");
  EXPECT_EQ(h.channel.poll_events() & POLLOUT, 0);
}

TEST(Channel, DeviceGoneAbortsEverythingAndSaysSo) {
  ChannelHarness h(4096);
  std::string why;
  h.channel.on_closed([&](const std::string& w) { why = w; });
  Command open = command("AT+QMTOPEN=0,\"b\",1883");
  open.completion = Completion{"+QMTOPEN:", {}, std::chrono::seconds(120)};
  h.peer.on(open.text + "\r", "\r\nOK\r\n");
  auto opened = h.submit(open);
  h.pump();
  auto in_flight = h.submit(command("AT+CSQ"));
  auto queued = h.submit(command("AT+CREG?"));
  h.stream.hang_up();
  h.channel.handle_readable();
  for (const auto& r : {opened, in_flight, queued}) {
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->code, ResultCode::kAborted);
  }
  EXPECT_FALSE(why.empty());
  EXPECT_TRUE(h.channel.closed());
  EXPECT_EQ(h.channel.poll_fd(), -1);
  auto after = h.submit(command("AT"));
  ASSERT_TRUE(after->has_value());
  EXPECT_EQ((*after)->code, ResultCode::kAborted);
}

TEST(Channel, AbortAllEndsEverythingAndTheChannelCarriesOn) {
  ChannelHarness h(4096);
  auto in_flight = h.submit(command("AT+CFUN=1,1"));
  auto queued = h.submit(command("AT+CSQ"));
  h.channel.abort_all();  // e.g. RDY arrived: the module rebooted
  ASSERT_TRUE(in_flight->has_value() && queued->has_value());
  EXPECT_EQ((*queued)->code, ResultCode::kAborted);
  h.peer.on("AT+CFUN=1,1\r", "").on("AT\r", "\r\nOK\r\n");
  auto next = h.submit(command("AT"));
  h.pump();
  ASSERT_TRUE(next->has_value());
  EXPECT_TRUE((*next)->ok());
}

// The AT logger's output while `scenario` runs, at trace level.
std::string at_log_of(const std::function<void()>& scenario) {
  std::ostringstream log_text;
  auto at_log = modem::logger("at");
  const auto old_sinks = at_log->sinks();
  const auto old_level = at_log->level();
  at_log->sinks() = {std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text)};
  at_log->set_level(spdlog::level::trace);
  scenario();
  at_log->sinks() = old_sinks;
  at_log->set_level(old_level);
  return log_text.str();
}

TEST(Channel, SecretsNeverReachTheLogNotEvenThroughTheEcho) {
  const std::string log = at_log_of([] {
    ChannelHarness h(5);
    Command conn = command("AT+QMTCONN=0,\"dev1\",\"user\",\"s3cr3t-pw\"");
    conn.log_text = "AT+QMTCONN=0,\"dev1\",\"user\",\"***\"";
    conn.completion = Completion{"+QMTCONN:", {}, std::chrono::seconds(5)};
    // Echo on, plus a mangled echo that is not recognised as one (a bit flipped on the line).
    h.peer.on(conn.text + "\r",
              conn.text + "\r\r\nAT+QMTCONN=0,\"dev1\",\"user\",\"s3cr3t-pw\"!\r\n\r\nOK\r\n");
    auto r = h.submit(conn);
    h.pump();
    h.module_says("\r\n+QMTCONN: 0,0,0\r\n");
    ASSERT_TRUE(r->has_value());
    EXPECT_TRUE((*r)->ok());
  });
  EXPECT_NE(log.find("\"***\""), std::string::npos) << log;
  EXPECT_EQ(log.find("s3cr3t"), std::string::npos) << log;
}

TEST(Channel, AKnownSecretIsMaskedInEveryLineEvenALateEcho) {
  // The module answers nothing in time; its echo of the command, with the password, arrives after
  // the timeout, when no command with a secret is in flight any more, as an unrecognised line.
  // Also a line that is cut for the log right in the middle of the password.
  const std::string password = "s3cr3t-pw";
  const std::string conn_text = "AT+QMTCONN=0,\"dev1\",\"user\",\"" + password + "\"";
  const std::string log = at_log_of([&] {
    ChannelHarness h(4096);
    h.channel.add_secret(password);
    Command conn = command(conn_text);
    conn.log_text = "AT+QMTCONN=0,\"dev1\",\"user\",\"***\"";
    auto r = h.submit(conn);
    h.advance(conn.timeout);
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->code, ResultCode::kTimeout);
    h.module_says(conn_text + "\r\r\nERROR\r\n");
    h.module_says("\r\n" + std::string(113, 'x') + password + "\r\n");
    EXPECT_EQ(h.unsolicited.size(), 2u);
  });
  EXPECT_NE(log.find("unrecognised line from the module: AT+QMTCONN=0,\"dev1\",\"user\",\"***\""),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("s3cr"), std::string::npos) << log;
}

}  // namespace
}  // namespace modem::at
