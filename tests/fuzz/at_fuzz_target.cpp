// Fuzz target for the AT engine: arbitrary module output must never crash the framer or the
// channel, must frame identically however it is split, and must end every command exactly once.
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "modem/at/channel.hpp"
#include "modem/at/framer.hpp"
#include "modem/quectel/dialect.hpp"
#include "support/manual_clock.hpp"
#include "support/scripted_stream.hpp"

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
  return 0;
}
