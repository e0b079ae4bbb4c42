#include "notify.hpp"

#include <fmt/format.h>
#include <systemd/sd-daemon.h>

#include <cstdint>
#include <string_view>

#include "modem/text.hpp"

namespace cellmqttd {

namespace {

// STATUS= is one line of the newline-separated assignments sd_notify() sends: a newline in the
// text would start assignments of its own (a port path or an error message carrying
// "\nREADY=1" would make systemd take it), and systemd ignores a STATUS= that is not valid UTF-8.
// Whatever the text holds (a module's strings, a device path, an errno message), it goes out as
// one line of valid UTF-8: control characters and bytes outside well-formed UTF-8 are shown as
// \n, \r, \t or \xNN, as modem::printable() shows them in the log; other characters stay.
std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const std::size_t length = modem::utf8::sequence_length(text);
    const std::string_view sequence = text.substr(0, length == 0 ? 1 : length);
    text.remove_prefix(sequence.size());
    const char32_t c = length == 0 ? 0xFFFD : modem::utf8::decode(sequence);
    if (length != 0 && !modem::utf8::is_control(c)) {
      out += sequence;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      for (const char byte : sequence)
        out += fmt::format("\\x{:02x}", static_cast<unsigned char>(byte));
    }
  }
  return out;
}

}  // namespace

Notifier::Notifier() {
  std::uint64_t usec = 0;
  // 0: do not unset the environment; the watchdog applies to this process only.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = std::chrono::duration_cast<modem::Duration>(std::chrono::microseconds(usec / 2));
  }
}

void Notifier::send(const std::string& message) {
  sd_notify(0, message.c_str());
}

void Notifier::ready(const std::string& status) {
  last_status_ = status;
  send("READY=1\nSTATUS=" + one_line(status));
}

void Notifier::status(const std::string& status) {
  if (status == last_status_) return;
  last_status_ = status;
  send("STATUS=" + one_line(status));
}

void Notifier::reloading() {
  send("RELOADING=1\nSTATUS=reloading the configuration");
}

void Notifier::stopping() {
  send("STOPPING=1\nSTATUS=stopping");
}

void Notifier::watchdog() {
  send("WATCHDOG=1");
}

}  // namespace cellmqttd
