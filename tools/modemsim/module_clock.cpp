#include "module_clock.hpp"

#include <fmt/format.h>

#include <cctype>

namespace modemsim {

using namespace std::chrono;

const sys_seconds ModuleClock::kPowerOnTime = sys_days{year{1980} / January / 6};

ModuleClock::ModuleClock(const modem::Clock& steady) : steady_(steady) {
  reset();
}

void ModuleClock::reset() {
  set({kPowerOnTime, 0});
}

void ModuleClock::set(ClockReading reading) {
  base_ = reading;
  set_at_ = steady_.now();
}

ClockReading ModuleClock::read() const {
  return {base_.local + floor<seconds>(steady_.now() - set_at_), base_.zone_quarters};
}

sys_seconds ModuleClock::utc() const {
  const ClockReading now = read();
  return now.local - minutes(15 * now.zone_quarters);
}

namespace {

struct Fields {
  year_month_day date;
  hh_mm_ss<seconds> time;
};

Fields split(sys_seconds t) {
  const auto day = floor<days>(t);
  return {year_month_day{day}, hh_mm_ss<seconds>{t - day}};
}

// Two decimal digits at `at`, or -1.
int two_digits(std::string_view text, std::size_t at) {
  if (at + 2 > text.size() || !std::isdigit(static_cast<unsigned char>(text[at])) ||
      !std::isdigit(static_cast<unsigned char>(text[at + 1])))
    return -1;
  return (text[at] - '0') * 10 + (text[at + 1] - '0');
}

}  // namespace

std::string format_cclk(const ClockReading& reading) {
  const auto [date, time] = split(reading.local);
  const int zone = reading.zone_quarters;
  return fmt::format("{:02}/{:02}/{:02},{:02}:{:02}:{:02}{}{:02}", static_cast<int>(date.year()) % 100,
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count(),
                     zone < 0 ? '-' : '+', zone < 0 ? -zone : zone);
}

std::optional<ClockReading> parse_cclk(std::string_view text) {
  // yy/MM/dd,hh:mm:ss±zz: 20 characters, separators at fixed places.
  if (text.size() != 20 || text[2] != '/' || text[5] != '/' || text[8] != ',' || text[11] != ':' ||
      text[14] != ':' || (text[17] != '+' && text[17] != '-'))
    return std::nullopt;
  const int yy = two_digits(text, 0), mo = two_digits(text, 3), dd = two_digits(text, 6);
  const int hh = two_digits(text, 9), mi = two_digits(text, 12), ss = two_digits(text, 15);
  const int zz = two_digits(text, 18);
  if (yy < 0 || mo < 0 || dd < 0 || hh < 0 || mi < 0 || ss < 0 || zz < 0) return std::nullopt;
  const year_month_day date{year{yy >= 80 ? 1900 + yy : 2000 + yy}, month(static_cast<unsigned>(mo)),
                            day(static_cast<unsigned>(dd))};
  const int zone = text[17] == '-' ? -zz : zz;
  if (!date.ok() || hh > 23 || mi > 59 || ss > 59 || zone < -48 || zone > 56) return std::nullopt;
  return ClockReading{sys_days{date} + hours(hh) + minutes(mi) + seconds(ss), zone};
}

std::string format_utc_long(sys_seconds utc) {
  const auto [date, time] = split(utc);
  return fmt::format("{:04}/{:02}/{:02},{:02}:{:02}:{:02}+00", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count());
}

}  // namespace modemsim
