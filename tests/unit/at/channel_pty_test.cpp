// The channel over a real pseudo-terminal, opened by SerialPort exactly as production opens a
// module's tty, and driven by the real event loop. The test plays the module on the master side
// as another source in the same loop: nothing sleeps, every wait is for an fd or a deadline.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <string>

#include "modem/at/channel.hpp"
#include "modem/transport/event_loop.hpp"
#include "modem/transport/serial_port.hpp"
#include "support/pty_pair.hpp"

namespace modem::at {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The module: reads what the host writes and answers each command line from a table. A command
// may expect a payload of N bytes after its prompt; what arrives is recorded byte-exact.
class PtyModule final : public EventSource {
 public:
  explicit PtyModule(int master_fd) : fd_(master_fd) {}

  std::map<std::string, std::string> replies;        // command line (without CR) -> bytes to send
  std::map<std::string, std::size_t> payload_after;  // command line -> payload length it expects
  std::string payload_reply;
  std::string received_payload;
  bool mute = false;

  int poll_fd() const override { return fd_; }
  short poll_events() const override { return static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT)); }
  std::optional<TimePoint> next_deadline() const override { return std::nullopt; }
  void dispatch(short revents) override {
    if (revents & POLLIN) {
      char buf[512];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n > 0) consume(std::string_view(buf, static_cast<std::size_t>(n)));
    }
    if (!out_.empty()) {
      const ssize_t n = ::write(fd_, out_.data(), out_.size());
      if (n > 0) out_.erase(0, static_cast<std::size_t>(n));
    }
  }
  void say(std::string bytes) { out_ += bytes; }

 private:
  void consume(std::string_view bytes) {
    for (char c : bytes) {
      if (payload_left_ > 0) {
        received_payload += c;
        if (--payload_left_ == 0) say(payload_reply);
        continue;
      }
      if (c != '\r') {
        line_ += c;
        continue;
      }
      const std::string line = std::exchange(line_, {});
      if (mute) continue;
      if (auto p = payload_after.find(line); p != payload_after.end()) {
        payload_left_ = p->second;
        say("\r\n> ");
      } else if (auto r = replies.find(line); r != replies.end()) {
        say(r->second);
      } else {
        say("\r\nERROR\r\n");
      }
    }
  }

  int fd_;
  std::string line_;
  std::string out_;
  std::size_t payload_left_ = 0;
};

struct PtyFixture : ::testing::Test {
  void SetUp() override {
    pty = std::make_unique<test_support::PtyPair>(test_support::PtyPair::open());
    auto opened = SerialPort::open(pty->slave_path(), SerialConfig{});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    port = std::move(opened).value();
    ChannelConfig config;
    config.resync_quiet = milliseconds(50);
    config.probe_timeout = milliseconds(500);
    channel = std::make_unique<Channel>(*port, clock, config);
    module = std::make_unique<PtyModule>(pty->master_fd());
    loop.add(*channel);
    loop.add(*module);
  }

  // Runs the loop until `done`; the 10 s limit only stops a broken test from hanging CI.
  void run_until(const std::function<bool()>& done) {
    const TimePoint give_up = clock.now() + seconds(10);
    while (!done()) {
      ASSERT_LT(clock.now(), give_up) << "condition not reached";
      loop.run_once(milliseconds(100));
    }
  }

  SteadyClock clock;
  EventLoop loop{clock};
  std::unique_ptr<test_support::PtyPair> pty;
  std::unique_ptr<SerialPort> port;
  std::unique_ptr<Channel> channel;
  std::unique_ptr<PtyModule> module;
};

TEST_F(PtyFixture, CommandsUrcsAndABinaryPayloadCrossARealTty) {
  std::vector<std::string> urcs;
  channel->urcs().add("+QIND:", [&](std::string_view l) { urcs.emplace_back(l); });
  module->replies["AT+CSQ"] = "\r\n+QIND: SMS DONE\r\n\r\n+CSQ: 28,0\r\n\r\nOK\r\n";
  const std::string payload("\"q\",\r\n\x00\x1a\xff\x80 end", 14);
  const std::string pub = "AT+QMTPUBEX=0,1,1,0,\"t\",14";
  module->payload_after[pub] = payload.size();
  module->payload_reply = "\r\nOK\r\n\r\n+QMTPUBEX: 0,1,0\r\n";

  std::optional<Result> csq, published;
  Command c;
  c.text = "AT+CSQ";
  c.response_prefixes = {"+CSQ:"};
  channel->submit(c, [&](const Result& r) { csq = r; });
  Command p;
  p.text = pub;
  p.payload = payload;
  p.completion = Completion{"+QMTPUBEX:", {}, seconds(5)};
  channel->submit(p, [&](const Result& r) { published = r; });

  run_until([&] { return csq && published; });
  EXPECT_TRUE(csq->ok());
  EXPECT_EQ(csq->lines, std::vector<std::string>{"+CSQ: 28,0"});
  EXPECT_EQ(urcs, std::vector<std::string>{"+QIND: SMS DONE"});
  EXPECT_TRUE(published->ok());
  EXPECT_EQ(module->received_payload, payload);
}

TEST_F(PtyFixture, TimeoutResyncsOverTheTtyAndTheChannelRecovers) {
  module->mute = true;
  std::optional<Result> first, second;
  Command slow;
  slow.text = "AT+QIACT=1";
  slow.timeout = milliseconds(200);
  channel->submit(slow, [&](const Result& r) { first = r; });
  run_until([&] { return first.has_value(); });
  EXPECT_EQ(first->code, ResultCode::kTimeout);

  module->mute = false;
  module->replies["AT"] = "\r\nOK\r\n";
  module->replies["AT+CGMM"] = "\r\nEC200U\r\n\r\nOK\r\n";
  Command cgmm;
  cgmm.text = "AT+CGMM";
  cgmm.plain_lines = true;
  channel->submit(cgmm, [&](const Result& r) { second = r; });
  run_until([&] { return second.has_value(); });
  EXPECT_TRUE(second->ok());
  EXPECT_EQ(second->lines, std::vector<std::string>{"EC200U"});
  EXPECT_GE(channel->stats().resyncs, 1u);
}

TEST_F(PtyFixture, ModuleVanishingAbortsPendingCommandsAndClosesTheChannel) {
  module->mute = true;
  std::optional<Result> result;
  std::string why;
  channel->on_closed([&](const std::string& w) { why = w; });
  Command c;
  c.text = "AT+CSQ";
  c.timeout = seconds(5);
  channel->submit(c, [&](const Result& r) { result = r; });
  run_until([&] { return module->poll_fd() >= 0; });
  loop.remove(*module);
  pty->close_master();  // the USB device is unplugged
  run_until([&] { return result.has_value(); });
  EXPECT_EQ(result->code, ResultCode::kAborted);
  EXPECT_TRUE(channel->closed());
  EXPECT_FALSE(why.empty());
}

}  // namespace
}  // namespace modem::at
