// A Channel wired to a ScriptedStream and a ManualClock, plus the loop that lets the scripted
// module answer: the test says what the module replies to each command and moves time by hand.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "modem/at/channel.hpp"
#include "support/manual_clock.hpp"
#include "support/scripted_stream.hpp"

namespace test_support {

struct ChannelHarness {
  explicit ChannelHarness(std::size_t chunk, modem::at::ChannelConfig config = {})
      : stream(chunk), peer(stream), channel(stream, clock, config) {
    channel.on_unsolicited([this](std::string_view line) { unsolicited.emplace_back(line); });
    channel.on_timeout([this](unsigned n) { timeout_reports.push_back(n); });
  }

  // Lets the module answer and the channel read until nothing moves.
  void pump() {
    for (int guard = 0; guard < 1'000'000; ++guard) {
      bool progress = peer.answer();
      if (stream.has_inbound()) {
        channel.handle_readable();
        progress = true;
      }
      if (!progress) return;
    }
    ADD_FAILURE() << "pump did not settle";
  }
  // The module says something on its own.
  void module_says(std::string_view bytes) {
    stream.push(bytes);
    pump();
  }
  void advance(modem::Duration d) {
    clock.advance(d);
    channel.handle_deadlines();
    pump();
  }
  // Submits and returns a slot the result lands in.
  std::shared_ptr<std::optional<modem::at::Result>> submit(modem::at::Command command) {
    auto slot = std::make_shared<std::optional<modem::at::Result>>();
    channel.submit(std::move(command), [slot](const modem::at::Result& r) {
      EXPECT_FALSE(slot->has_value()) << "callback ran twice";
      *slot = r;
    });
    return slot;
  }

  ManualClock clock;
  ScriptedStream stream;
  ScriptedPeer peer;
  modem::at::Channel channel;
  std::vector<std::string> unsolicited;
  std::vector<unsigned> timeout_reports;
};

// Runs `scenario` once with whole reads to learn how many bytes the module sends, then once for
// every chunk size from 1 byte to all of them.
inline void for_every_chunk_size(const std::function<void(ChannelHarness&)>& scenario,
                                 modem::at::ChannelConfig config = {}) {
  std::size_t total = 0;
  {
    ChannelHarness whole(std::numeric_limits<std::size_t>::max(), config);
    scenario(whole);
    total = whole.channel.stats().bytes_in;
  }
  for (std::size_t chunk = 1; chunk <= total; ++chunk) {
    SCOPED_TRACE("chunk size " + std::to_string(chunk));
    ChannelHarness h(chunk, config);
    scenario(h);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

inline modem::at::Command command(std::string text) {
  modem::at::Command c;
  c.text = std::move(text);
  return c;
}

}  // namespace test_support
