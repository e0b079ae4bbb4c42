#include "modem/gpp/gpp_clock.hpp"

#include <fmt/format.h>

#include "at/command_text.hpp"
#include "at/lexing.hpp"

namespace modem::gpp {

namespace {

using namespace std::chrono;
using namespace lexing;

// Exactly `width` decimal digits at `text[pos]`.
std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  const std::string_view field = text.substr(pos, width);
  for (char c : field)
    if (c < '0' || c > '9') return std::nullopt;
  return to_int(field);
}

}  // namespace

at::Command query_clock() {
  return at::with_prefix("AT+CCLK?", "+CCLK:");
}

at::Command set_clock(SystemTime utc) {
  const auto days = floor<std::chrono::days>(utc);
  const year_month_day date{days};
  const hh_mm_ss time{floor<seconds>(utc - days)};
  return at::make_command(fmt::format("AT+CCLK=\"{:02}/{:02}/{:02},{:02}:{:02}:{:02}+00\"",
                                      static_cast<int>(date.year()) % 100,
                                      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                                      time.hours().count(), time.minutes().count(), time.seconds().count()));
}

std::optional<SystemTime> parse_clock_text(std::string_view text) {
  // The year is two digits (27.007) or four (+QLTS); the rest is fixed width.
  const std::size_t slash = text.find('/');
  if (slash != 2 && slash != 4) return std::nullopt;
  const auto y = digits(text, 0, slash);
  std::size_t p = slash;
  if (!y || text.size() < p + 15 || text[p] != '/' || text[p + 3] != '/' || text[p + 6] != ',' ||
      text[p + 9] != ':' || text[p + 12] != ':')
    return std::nullopt;
  const auto mo = digits(text, p + 1, 2), d = digits(text, p + 4, 2), h = digits(text, p + 7, 2),
             mi = digits(text, p + 10, 2), se = digits(text, p + 13, 2);
  if (!mo || !d || !h || !mi || !se) return std::nullopt;
  p += 15;
  int quarters = 0;
  if (p < text.size() && (text[p] == '+' || text[p] == '-')) {
    std::size_t end = p + 1;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9')
      ++end;
    const auto zone = to_int_in(text.substr(p + 1, end - p - 1), 0, 96);
    if (!zone) return std::nullopt;
    quarters = text[p] == '-' ? -*zone : *zone;
    p = end;
  }
  if (p < text.size() && text[p] != ',') return std::nullopt;  // +QLTS: ",<dst>" may follow
  // Two-digit years: "80/01/06" is the GPS epoch a module boots at (1980), not 2080.
  const int full_year = slash == 4 ? *y : *y >= 70 ? 1900 + *y : 2000 + *y;
  const year_month_day date{year{full_year}, month{static_cast<unsigned>(*mo)},
                            day{static_cast<unsigned>(*d)}};
  if (!date.ok() || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
  const auto local = sys_days{date} + hours{*h} + minutes{*mi} + seconds{*se};
  // The reading is local time `quarters` quarter hours east of UTC.
  return SystemTime{local - minutes{15 * quarters}};
}

std::optional<SystemTime> parse_cclk(std::string_view line) {
  const auto args = arguments(line, "+CCLK:");
  if (!args || args->size() != 1) {
    // Unquoted, the time's own comma splits it: "+CCLK: 26/12/02,16:04:05+00" (some firmware).
    if (!line.starts_with("+CCLK:")) return std::nullopt;
    return parse_clock_text(trim(line.substr(6)));
  }
  const auto inner = unquote((*args)[0]);
  return parse_clock_text(inner ? *inner : (*args)[0]);
}

bool clock_plausible(SystemTime time) {
  return time >= sys_days{year{2025} / January / 1};
}

std::string format_utc(SystemTime time) {
  const auto days = floor<std::chrono::days>(time);
  const year_month_day date{days};
  const hh_mm_ss t{floor<seconds>(time - days)};
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     t.hours().count(), t.minutes().count(), t.seconds().count());
}

}  // namespace modem::gpp
