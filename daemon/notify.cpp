#include "notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstdint>

namespace cellmqttd {

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
  send("READY=1\nSTATUS=" + status);
}

void Notifier::status(const std::string& status) {
  if (status == last_status_) return;
  last_status_ = status;
  send("STATUS=" + status);
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
