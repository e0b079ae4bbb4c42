// The dialect wired into a real at::Channel against a scripted module, in every read chunk size:
// a +QMTRECV whose payload holds CR, LF, quotes, a fake "OK" and NUL reaches parse_qmtrecv as one
// line, byte-exact, and the command it interrupts still gets its own answer.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "modem/at/channel.hpp"
#include "modem/gpp/gpp.hpp"
#include "modem/quectel/quectel_at.hpp"
#include "support/channel_harness.hpp"

namespace modem::quectel {
namespace {

using namespace std::string_literals;

using test_support::ChannelHarness;
using test_support::for_every_chunk_size;

// Every byte that has broken a +QMTRECV parser in the field (field-notes.md 2.1): quotes and
// commas (JSON), CR LF (formatted JSON, FreeRTOS-Cellular-Interface #123), a line that reads as a
// final result, a URC look-alike, NUL, Ctrl-Z and bytes >= 0x80.
const std::string kPayload =
    "{\r\n  \"relay1\": 1,\r\n  \"note\": \"a\\\"b\"\r\n}\r\nOK\r\n+QMTSTAT: 0,1\r\n\0\x1a\xff\x80\""s;

std::string recv_with_length(int msgid, const std::string& topic, const std::string& payload) {
  return "+QMTRECV: 0," + std::to_string(msgid) + ",\"" + topic + "\"," + std::to_string(payload.size()) +
         ",\"" + payload + "\"";
}

void install(ChannelHarness& h, std::vector<std::string>& urcs) {
  h.channel.add_line_reader("+QMTRECV:", [](std::string_view segment, char line_break) {
    return qmtrecv_line_ends(segment, line_break, RecvFraming::kWithLength);
  });
  h.channel.urcs().add("+QMTRECV:", [&urcs](std::string_view line) { urcs.emplace_back(line); });
  h.channel.urcs().add("+QMTSTAT:", [&urcs](std::string_view line) { urcs.emplace_back(line); });
}

ReceivedMessage message_of(const std::string& line) {
  const auto parsed = parse_qmtrecv(line, RecvFraming::kWithLength);
  EXPECT_TRUE(parsed.has_value()) << line;
  if (!parsed || !std::holds_alternative<ReceivedMessage>(*parsed)) return {};
  return std::get<ReceivedMessage>(*parsed);
}

TEST(QuectelOnChannel, MultiLinePayloadArrivesWholeInsideAnotherCommandsAnswer) {
  for_every_chunk_size([](ChannelHarness& h) {
    std::vector<std::string> urcs;
    install(h, urcs);
    // URCs land mid-response (field-notes.md 1.4, 2.5): here between +CSQ and OK.
    h.peer.on("AT+CSQ\r", "\r\n+CSQ: 28,0\r\n\r\n" + recv_with_length(0, "dev/42/cmd", kPayload) +
                              "\r\n\r\nOK\r\n\r\n+QMTSTAT: 0,1\r\n");
    auto result = h.submit(gpp::signal_quality());
    h.pump();
    ASSERT_TRUE(result->has_value());
    EXPECT_EQ((*result)->code, at::ResultCode::kOk);
    EXPECT_EQ((*result)->lines, std::vector<std::string>{"+CSQ: 28,0"});
    ASSERT_EQ(urcs.size(), 2u);
    const ReceivedMessage m = message_of(urcs[0]);
    EXPECT_EQ(m.topic, "dev/42/cmd");
    EXPECT_EQ(m.payload, kPayload);
    EXPECT_EQ(urcs[1], "+QMTSTAT: 0,1");
    EXPECT_TRUE(h.unsolicited.empty());
    EXPECT_EQ(h.channel.stats().stale_finals, 0u);
  });
}

TEST(QuectelOnChannel, EveryReceiveShapeThroughTheChannel) {
  const std::string relay = "{\"relay1\":1,\r\n\"relay2\":0}";
  const std::string plain_multi_line = "first line\r\nsecond, with a comma\r\n{\"k\": 1}";
  const std::vector<std::pair<std::string, std::string>> shapes = {
      {recv_with_length(65535, "t", kPayload), kPayload},
      // field-notes.md 2.1, EC200U split format: <len>, CR LF, then the payload.
      {"+QMTRECV: 0,1,\"pump/01/cmd\"," + std::to_string(relay.size()) + "\r\n" + relay, relay},
      // recv/mode without length (field-notes.md 1.1): decided when the module falls silent.
      {"+QMTRECV: 0,2,\"t\",\"" + plain_multi_line + "\"", plain_multi_line},
  };
  for (const auto& [line, payload] : shapes) {
    SCOPED_TRACE(line.substr(0, 40));
    for_every_chunk_size([&, &line = line, &payload = payload](ChannelHarness& h) {
      std::vector<std::string> urcs;
      install(h, urcs);
      h.module_says("\r\n" + line + "\r\n\r\n+QMTSTAT: 0,1\r\n");
      h.advance(at::ChannelConfig{}.line_quiet);
      ASSERT_EQ(urcs.size(), 2u);
      EXPECT_EQ(urcs[0], line);
      EXPECT_EQ(message_of(urcs[0]).payload, payload);
      EXPECT_EQ(urcs[1], "+QMTSTAT: 0,1");
      EXPECT_TRUE(h.unsolicited.empty());
    });
  }
}

TEST(QuectelOnChannel, BufferedReadBackReturnsEveryMessageByteExact) {
  for_every_chunk_size([](ChannelHarness& h) {
    std::vector<std::string> urcs;
    install(h, urcs);
    // field-notes.md 1.15: AT+QMTRECV=0 returns every buffered message, with <len>, then OK.
    const std::string first = recv_with_length(0, "/public/test", "A55A20000001");
    const std::string second = recv_with_length(7, "cmd", kPayload);
    const at::Command read = mqtt_read_buffered(0, std::nullopt);
    h.peer.on(read.text + "\r", "\r\n" + first + "\r\n\r\n" + second + "\r\n\r\nOK\r\n");
    auto result = h.submit(read);
    h.pump();
    ASSERT_TRUE(result->has_value());
    EXPECT_EQ((*result)->code, at::ResultCode::kOk);
    ASSERT_EQ((*result)->lines.size(), 2u);
    EXPECT_EQ(message_of((*result)->lines[0]).payload, "A55A20000001");
    const ReceivedMessage m = message_of((*result)->lines[1]);
    EXPECT_EQ(m.msgid, 7);
    EXPECT_EQ(m.topic, "cmd");
    EXPECT_EQ(m.payload, kPayload);
    EXPECT_TRUE(urcs.empty());
  });
}

TEST(QuectelOnChannel, PublishGoesOutAndCompletesOnItsOwnMsgid) {
  for_every_chunk_size([](ChannelHarness& h) {
    const at::Command one = mqtt_publish(0, 1, 1, false, "dev/42/up", kPayload);
    const at::Command seventeen = mqtt_publish(0, 17, 1, false, "dev/42/up", "x");
    h.peer.on(one.text + "\r", "\r\n> ")
        .on(kPayload, "\r\nOK\r\n")
        .on(seventeen.text + "\r", "\r\n> ")
        .on("x", "\r\nOK\r\n");
    auto r1 = h.submit(one);
    auto r17 = h.submit(seventeen);
    h.pump();
    EXPECT_EQ(h.stream.written(), one.text + "\r" + kPayload + seventeen.text + "\rx");
    EXPECT_EQ(h.channel.awaiting_completion(), 2u);
    // 17's PUBACK first: it must not complete message 1. Then a retransmission notice for 1
    // (field-notes.md 2.2), which does not complete it either, then its PUBACK.
    h.module_says("\r\n+QMTPUBEX: 0,17,0\r\n");
    ASSERT_TRUE(r17->has_value());
    EXPECT_EQ((*r17)->completion, "+QMTPUBEX: 0,17,0");
    EXPECT_FALSE(r1->has_value());
    h.module_says("\r\n+QMTPUBEX: 0,1,1,1\r\n");
    EXPECT_FALSE(r1->has_value());
    h.module_says("\r\n+QMTPUBEX: 0,1,0\r\n");
    ASSERT_TRUE(r1->has_value());
    EXPECT_EQ((*r1)->completion, "+QMTPUBEX: 0,1,0");
    const auto ack = parse_packet_result(*(*r1)->completion);
    ASSERT_TRUE(ack.has_value());
    EXPECT_EQ(ack->result, 0);
  });
}

}  // namespace
}  // namespace modem::quectel
