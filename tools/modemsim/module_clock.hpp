// The module's real-time clock, one per module life. At power-on it reads 80/01/06,00:00:00+00
// (the GPS epoch, where an EC2x without network time starts), then runs in real time until
// AT+CCLK=, the network's time (NITZ) or AT+QNTP sets it. The TLS handshake checks certificate
// validity against it, which is why a module that never learnt the time fails to open a
// verified connection (field-notes.md 3.3: most users switch the check off instead).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "modem/clock.hpp"

namespace modemsim {

using std::chrono::sys_seconds;

// A local time and its zone in quarter hours east of UTC, as 3GPP TS 27.007 §8.15 writes it.
struct ClockReading {
  sys_seconds local;
  int zone_quarters = 0;
};

class ModuleClock {
 public:
  static const sys_seconds kPowerOnTime;  // 1980-01-06 00:00:00

  explicit ModuleClock(const modem::Clock& steady);
  // Power-on: back to kPowerOnTime, zone +00.
  void reset();
  void set(ClockReading reading);
  void set_utc(sys_seconds utc) { set({utc, 0}); }
  ClockReading read() const;
  sys_seconds utc() const;

 private:
  const modem::Clock& steady_;
  ClockReading base_;
  modem::TimePoint set_at_;
};

// "yy/MM/dd,hh:mm:ss±zz" (AT+CCLK): two-digit years 80-99 are 1980-1999, 00-79 are 2000-2079, so
// the power-on time reads "80" and every time the clock can show reads back as itself.
std::string format_cclk(const ClockReading& reading);
// nullopt unless `text` is exactly that form with a real date and a zone of -48..+56 quarters.
std::optional<ClockReading> parse_cclk(std::string_view text);
// "yyyy/MM/dd,hh:mm:ss+00" for a UTC time (+QNTP, +QLTS).
std::string format_utc_long(sys_seconds utc);

}  // namespace modemsim
