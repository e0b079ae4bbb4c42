// The network's time: NITZ (--network-time, read with AT+QLTS) and NTP (AT+QNTP). Both set the
// module's clock (module_clock.hpp) to the host's UTC time, which stands for the network's.
#include <fmt/format.h>

#include "at_server.hpp"
#include "quectel_personality.hpp"

namespace modemsim {

namespace {

// +QNTP error codes (Quectel's TCP/IP AT commands manual, the 55x-57x socket codes; field-notes.md
// 2.8): the context to send the request over is not active, and the server's name did not resolve.
constexpr int kNtpPdpNotActive = 561;
constexpr int kNtpDnsFailed = 565;
// How long the NTP exchange takes before +QNTP reports it: a round trip and then some.
constexpr auto kNtpDelay = std::chrono::milliseconds(200);

sys_seconds host_utc() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

}  // namespace

// With --network-time the network sends its time when the module registers (NITZ), and the
// module sets its clock to it. Looked at before each command: the clock can only be read
// through commands (AT+CCLK?, AT+QLTS, a TLS handshake), so it reads as if set at registration.
void QuectelPersonality::follow_network_time() {
  const bool registered = world_.registered();
  if (settings_.network_time && registered && !was_registered_) {
    clock_.set_utc(host_utc());
    network_time_known_ = true;
  }
  was_registered_ = registered;
}

void QuectelPersonality::qlts(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  // AT+QLTS[=<mode>]: the time the network last gave, "" when it gave none (no NITZ).
  const auto mode = command.form == AtCommandLine::Form::kWrite ? command.integer(0) : 0;
  if (command.form == AtCommandLine::Form::kTest) {
    reply->line("+QLTS: (0-2)");
    return reply->ok();
  }
  if (command.form == AtCommandLine::Form::kRead || !mode || *mode < 0 || *mode > 2)
    return bad_argument(reply);
  reply->line(network_time_known_ ? fmt::format("+QLTS: \"{},0\"", format_utc_long(host_utc()))
                                  : std::string("+QLTS: \"\""));
  reply->ok();
}

void QuectelPersonality::qntp(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  // AT+QNTP=<cid>,"<server>"[,<port>[,<settime>]] -> OK, then +QNTP: 0,"<time>" or +QNTP: <err>.
  if (command.form == AtCommandLine::Form::kTest) {
    reply->line("+QNTP: (1-16),\"<server>\",(1-65535),(0,1)");
    return reply->ok();
  }
  if (command.form == AtCommandLine::Form::kRead) return reply->ok();  // no request in progress
  const auto cid = command.integer(0);
  const auto port = command.count() > 2 ? command.integer(2) : 123;
  const auto set_time = command.count() > 3 ? command.integer(3) : 1;
  if (command.form != AtCommandLine::Form::kWrite || command.count() < 2 || command.count() > 4 || !cid ||
      *cid < 1 || *cid > 16 || !command.quoted(1) || command.string(1)->empty() || !port || *port < 1 ||
      *port > 65535 || !(set_time == 0 || set_time == 1)) {
    return bad_argument(reply);
  }
  const auto context = world_.contexts.find(static_cast<int>(*cid));
  const bool pdp_active = context != world_.contexts.end() && context->second.active;
  const int error = !pdp_active ? kNtpPdpNotActive : world_.ntp_fails ? kNtpDnsFailed : 0;
  reply->ok();
  loop_.call_after(kNtpDelay, [this, life = life_, error, set = *set_time == 1] {
    if (life != life_) return;  // the module was reset meanwhile
    if (error != 0) return server_.urc(fmt::format("+QNTP: {}", error));
    const sys_seconds now = host_utc();
    if (set) clock_.set_utc(now);
    ++service_figures_.ntp_syncs;
    server_.urc(fmt::format("+QNTP: 0,\"{}\"", format_utc_long(now)));
  });
}

}  // namespace modemsim
