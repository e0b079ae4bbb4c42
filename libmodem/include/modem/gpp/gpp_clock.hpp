// The module's real-time clock (3GPP TS 27.007 8.15, AT+CCLK), which a module's TLS stack checks
// certificate validity against. A module without network time starts from a fixed epoch after
// every boot (1980-01-06 on Quectel EC2x, 2000-01-01 on others), so "valid" means "plausibly set".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "modem/at/command.hpp"

namespace modem::gpp {

using SystemTime = std::chrono::system_clock::time_point;

at::Command query_clock();              // AT+CCLK?
at::Command set_clock(SystemTime utc);  // AT+CCLK="yy/MM/dd,hh:mm:ss+00"

// "yy/MM/dd,hh:mm:ss±zz" (27.007) or "yyyy/MM/dd,hh:mm:ss±zz[,<dst>]" (Quectel's +QLTS), zz in
// quarter hours east of UTC, as UTC. nullopt when it is not such a time (an empty string too).
std::optional<SystemTime> parse_clock_text(std::string_view text);
// +CCLK: "<time>"
std::optional<SystemTime> parse_cclk(std::string_view line);

// Whether a module's clock reading can be the time: not before 2025, the year this release was
// made, so every boot epoch a module falls back to reads as "not set".
bool clock_plausible(SystemTime time);
// "2026-12-02 16:04:05 UTC", for log lines.
std::string format_utc(SystemTime time);

}  // namespace modem::gpp
