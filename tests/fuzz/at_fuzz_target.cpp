// Fuzz target for the AT engine: arbitrary module output must never crash the framer or the
// channel, must frame identically however it is split, and must end every command exactly once.
// And the same bytes read as a message an attacker publishes (issue 18): whatever its topic and
// payload hold, the module's rendering of it in every receive form must not change the session's
// state, complete a publish or bring a message on another topic: it arrives exactly, or is
// refused and counted.
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "modem/at/channel.hpp"
#include "modem/at/framer.hpp"
#include "modem/quectel/quectel_at.hpp"
#include "modem/session/mqtt_session.hpp"
#include "support/manual_clock.hpp"
#include "support/scripted_stream.hpp"
#include "support/session_harness.hpp"

namespace {

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

// The Quectel +QMTRECV reader, as the session installs it.
modem::at::LineEnds qmtrecv_reader(std::string_view segment, char line_break) {
  return modem::quectel::qmtrecv_line_ends(segment, line_break, modem::quectel::RecvFraming::kWithLength);
}

struct Framed {
  int kind;
  std::string data;
  std::size_t size;
  bool operator==(const Framed&) const = default;
};

std::vector<Framed> frame_in_chunks(std::string_view input, const std::vector<std::size_t>& chunks) {
  modem::at::FramerConfig config;
  config.max_line_bytes = 512;  // small, so the overflow path is exercised too
  modem::at::Framer framer(config);
  const modem::at::Framer::LineReader reader = qmtrecv_reader;
  framer.set_reader_lookup([&reader](std::string_view line) -> const modem::at::Framer::LineReader* {
    return line.starts_with("+QMTRECV:") ? &reader : nullptr;
  });
  framer.expect_prompt(true);
  std::vector<Framed> frames;
  auto sink = [&](modem::at::Frame&& f) {
    FUZZ_CHECK(f.kind != modem::at::Frame::Kind::kLine || !f.data.empty());
    FUZZ_CHECK(f.data.size() <= config.max_line_bytes);
    // "+QIRD: n" asks for n raw bytes, as a socket read would.
    if (f.kind == modem::at::Frame::Kind::kLine && f.data.starts_with("+QIRD: ") && f.data.size() < 10) {
      framer.expect_raw(static_cast<std::size_t>(f.data[7] & 0x0f));
    }
    frames.push_back({static_cast<int>(f.kind), std::move(f.data), f.size});
  };
  std::size_t pos = 0;
  for (std::size_t i = 0; pos < input.size(); ++i) {
    const std::size_t n = chunks.empty() ? input.size() : chunks[i % chunks.size()];
    framer.feed(input.substr(pos, n), sink);
    pos += n;
  }
  framer.quiet(sink);
  FUZZ_CHECK(!framer.awaiting_quiet());
  return frames;
}

void check_framer(std::string_view input) {
  const auto whole = frame_in_chunks(input, {});
  FUZZ_CHECK(frame_in_chunks(input, {1}) == whole);
  FUZZ_CHECK(frame_in_chunks(input, {3, 1, 7, 2}) == whole);
}

void check_channel(std::string_view input) {
  test_support::ManualClock clock;
  test_support::ScriptedStream stream(input.empty() ? 1 : (static_cast<unsigned char>(input[0]) % 16) + 1);
  modem::at::Channel channel(stream, clock);
  channel.add_line_reader("+QMTRECV:", qmtrecv_reader);
  int urcs = 0;
  for (const char* prefix : {"+QMTRECV:", "+QMTSTAT:", "RDY", "+QIURC:"}) {
    channel.urcs().add(prefix, [&](std::string_view) { ++urcs; });
  }
  channel.urcs().add("+QIRD:", [&](std::string_view) { channel.read_raw(3, [](std::string) {}); });

  int callbacks = 0;
  auto count = [&](const modem::at::Result&) { ++callbacks; };
  modem::at::Command plain;
  plain.text = "AT+CSQ";
  plain.response_prefixes = {"+CSQ:"};
  modem::at::Command pub;
  pub.text = "AT+QMTPUBEX=0,1,1,0,\"t\",4";
  pub.payload = "data";
  pub.completion = modem::at::Completion{"+QMTPUBEX:", {}, std::chrono::seconds(5)};
  modem::at::Command ident;
  ident.text = "ATI";
  ident.plain_lines = true;
  channel.submit(plain, count);
  channel.submit(pub, count);
  channel.submit(ident, count);

  stream.push(input);
  for (int step = 0; step < 64 && !channel.closed(); ++step) {
    channel.handle_readable();
    clock.advance(std::chrono::milliseconds(700));
    channel.handle_deadlines();
  }
  // A payload only ever follows a prompt.
  if (stream.written().find("data") != std::string::npos)
    FUZZ_CHECK(input.find('>') != std::string_view::npos);
  channel.abort_all();
  FUZZ_CHECK(callbacks == 3);
}

// The forms a module writes a received message in (field-notes.md 2.1, 1.15).
enum class RecvForm { kLength, kSplit, kBuffered, kNoLength, kCount };

// Input: a form byte, a chunk-size byte, then the topic up to the first 0x01 byte, then the payload.
void check_hostile_message(std::string_view input) {
  namespace ms = modem::session;
  if (input.size() < 2) return;
  const auto form =
      static_cast<RecvForm>(static_cast<unsigned char>(input[0]) % static_cast<int>(RecvForm::kCount));
  const std::size_t chunk = static_cast<unsigned char>(input[1]) % 32 + 1;
  input.remove_prefix(2);
  const std::size_t split_at = std::min(input.find('\x01'), input.size());
  // A topic a broker delivers: UTF-8 without control characters or wildcards (MQTT 3.1.1 §1.5.3,
  // §4.7.1), under the subscription. Without a length field a topic holding `","` (or ending in
  // `",`) is cut there, the residual the README names: such topics are not tried in that form.
  std::string topic = "cmd/";
  for (const char c : input.substr(0, std::min<std::size_t>(split_at, 64))) {
    const auto u = static_cast<unsigned char>(c);
    topic += u < 0x20 || u >= 0x7f || c == '+' || c == '#' ? 'x' : c;
  }
  if (form == RecvForm::kNoLength) {
    // The line's first `","` ends the topic: one that holds it, or ends in `",`, is cut there.
    while ((topic + "\",\"").find("\",\"") != topic.size())
      topic[(topic + "\",\"").find("\",\"") + 1] = ';';
  }
  const std::string payload(split_at < input.size() ? input.substr(split_at + 1) : std::string_view());
  const std::string head = "+QMTRECV: 0,7,\"" + topic + "\",";
  std::string line;
  switch (form) {
    case RecvForm::kLength:
    case RecvForm::kBuffered:
      line = head + std::to_string(payload.size()) + ",\"" + payload + "\"";
      break;
    case RecvForm::kSplit:
      line = head + std::to_string(payload.size()) + "\r\n" + payload;
      break;
    case RecvForm::kNoLength:
    case RecvForm::kCount:
      line = head + "\"" + payload + "\"";
      break;
  }

  test_support::SessionHarness h(chunk);
  h.config.buffered_receive = form == RecvForm::kBuffered;
  FUZZ_CHECK(h.start());
  FUZZ_CHECK(h.run_until_ready());
  const std::size_t states = h.states.size();
  const auto recoveries = h.session->stats().recoveries;
  h.module.set_auto_ack(false);
  int outcomes = 0;
  for (const char* up : {"up/a", "up/b"}) {
    FUZZ_CHECK(h.session->publish(up, "v", 1, false, [&outcomes](const ms::PublishOutcome&) {
      ++outcomes;
    }) == ms::Admission::kAccepted);
  }
  h.pump();
  if (form == RecvForm::kNoLength) {
    // A gateway on such firmware has seen a plain message before: the session knows the form.
    h.module.say("\r\n+QMTRECV: 0,6,\"cmd/first\",\"hello\"\r\n");
    h.advance(std::chrono::milliseconds(300));
    FUZZ_CHECK(h.messages.size() == 1);
    h.messages.clear();
  }
  if (form == RecvForm::kBuffered) {
    h.module.on("AT+QMTRECV=", "\r\n" + line + "\r\n\r\nOK\r\n");
    h.module.say("\r\n+QMTRECV: 0,2\r\n");
  } else {
    h.module.say("\r\n" + line + "\r\n");
  }
  // The acknowledgements of the two publishes come right behind it, in the same burst.
  h.module.ack_publishes();
  h.advance(std::chrono::milliseconds(300));

  FUZZ_CHECK(h.session->ready());
  FUZZ_CHECK(h.states.size() == states);
  FUZZ_CHECK(h.session->stats().recoveries == recoveries);
  FUZZ_CHECK(h.messages.size() <= 1);
  if (h.messages.size() == 1) {
    FUZZ_CHECK(h.messages[0].topic == topic);
    FUZZ_CHECK(h.messages[0].payload == payload);
    FUZZ_CHECK(h.session->stats().messages_refused == 0);
  } else {
    FUZZ_CHECK(h.session->stats().messages_refused == 1);
  }
  // The real acknowledgements complete the publishes, once each, whatever the message held;
  // a publish whose acknowledgement the doubtful message swallowed fails (and is sent again by
  // the daemon), it is never completed by payload bytes.
  FUZZ_CHECK(h.run_until([&outcomes] { return outcomes == 2; }, std::chrono::seconds(30)));
  FUZZ_CHECK(h.session->stats().publishes_delivered + h.session->stats().publishes_failed == 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Arbitrary input provokes every warning the engine has; millions of them only slow the fuzzer.
  static const bool silenced = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)silenced;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_framer(input);
  check_channel(input);
  check_hostile_message(input);
  return 0;
}
