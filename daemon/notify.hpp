// The daemon's side of systemd's notify protocol (Type=notify, sd_notify(3)): READY=1 once
// configured and looping, STATUS= one human line, WATCHDOG=1 from the loop while it is healthy,
// RELOADING=1 ... READY=1 around SIGHUP, STOPPING=1 on the way out. Outside systemd (no
// NOTIFY_SOCKET) every call does nothing. A status text goes out as one line of valid UTF-8,
// whatever it holds, so it cannot add assignments of its own.
#pragma once

#include <optional>
#include <string>

#include "modem/clock.hpp"

namespace cellmqttd {

class Notifier {
 public:
  Notifier();
  void ready(const std::string& status);
  void status(const std::string& status);  // sent only when it changed
  void reloading();
  void stopping();
  void watchdog();
  // Half the watchdog period systemd asked for (WATCHDOG_USEC), or nullopt without a watchdog.
  std::optional<modem::Duration> watchdog_interval() const { return watchdog_interval_; }

 private:
  void send(const std::string& message);
  std::optional<modem::Duration> watchdog_interval_;
  std::string last_status_;
};

}  // namespace cellmqttd
