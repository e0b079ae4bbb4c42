// Building blocks for a dialect's scripts (dialect.hpp): typed failures made from an AT result,
// steps that must answer OK or whose answer does not matter, and the 3GPP TS 27.007 identity
// steps (IMEI, SIM, IMSI) every family runs the same way, so no dialect writes them again.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "modem/at/command.hpp"
#include "modem/at/result.hpp"
#include "modem/session/dialect.hpp"

namespace modem::session {

Failure failure(Failure::Kind kind, std::string text, Rung rung = Rung::kReopen, bool counts = true,
                std::optional<int> code = std::nullopt);
// The command did not answer OK: kNoAnswer when it stayed silent (or was aborted), else `refused`.
// The text is "<what>: <the module's answer>".
Failure failed(const at::Result& result, std::string_view what,
               Failure::Kind refused = Failure::Kind::kRejected);

// A step that must answer OK; a failure names the command (its loggable text, never a secret).
Step required(at::Command command);
// A step whose answer does not matter: cleaning up what may not exist, an optional setting.
Step optional_step(at::Command command);

// The first intermediate line of an answer, or "".
std::string first_line(const at::Result& result);

// AT+CGSN into ModuleInfo::imei (an unanswered query leaves it empty: the IMEI is for the log).
Step imei_step();
// AT+CPIN?: the SIM must be READY; a missing, locked or otherwise unready SIM is a typed SIM
// failure saying what a person has to do.
Step sim_step();
// AT+CIMI into ModuleInfo::imsi.
Step imsi_step();

bool is_sim_failure(Failure::Kind kind);
// The failures of TLS (its files, the module's clock, the handshake): reported in the status.
bool is_tls_failure(Failure::Kind kind);

}  // namespace modem::session
