// The basics every module family shares: ITU-T V.250 (AT, ATE0, ATI) and 3GPP TS 27.007 (the
// SIM, network registration, signal, operator, functionality, identity). Pure functions that
// build commands and parse lines, as a dialect's are; the session and every dialect use them, so
// no family writes these again.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modem/at/command.hpp"

namespace modem::gpp {

// ---- commands -----------------------------------------------------------------------------------
at::Command probe();           // AT
at::Command echo_off();        // ATE0
at::Command numeric_errors();  // AT+CMEE=1
at::Command identify();        // ATI: bare lines, "Quectel", "<model>", "Revision: <rev>" on Quectel
at::Command manufacturer();    // AT+CGMI
at::Command model();           // AT+CGMM
at::Command revision();        // AT+CGMR
at::Command imei();            // AT+CGSN
at::Command imsi();            // AT+CIMI
at::Command sim_status();      // AT+CPIN? (5 s: the SIM is read on the first query after boot)

enum class Registration { kCs, kGprs, kEps };             // +CREG, +CGREG, +CEREG
const char* prefix(Registration kind);                    // "+CREG:" ...
at::Command enable_registration_urcs(Registration kind);  // AT+CEREG=2 (stat, location, AcT)
at::Command query_registration(Registration kind);        // AT+CEREG?

at::Command signal_quality();            // AT+CSQ
at::Command operator_name();             // AT+COPS?
at::Command set_functionality(int fun);  // AT+CFUN=0 / AT+CFUN=1 (15 s)
at::Command reset_module();              // AT+CFUN=1,1

// ---- parsed lines -----------------------------------------------------------------------------
struct Identity {  // from ATI's lines (or AT+CGMI / AT+CGMM / AT+CGMR)
  std::string manufacturer;
  std::string model;
  std::string revision;
};
// ATI's bare lines: the first is the manufacturer, the second the model, "Revision: <rev>" the
// firmware (field-notes.md 1.6). Lines it cannot place are ignored.
Identity parse_identity(const std::vector<std::string>& lines);
// The answer of AT+CGMI, AT+CGMM or AT+CGMR: a bare line (27.007 §5.1-5.3), or on some firmware
// one with the command's prefix ("+CGMM: MC665"), which is dropped.
std::string parse_identity_line(std::string_view line);

struct RegistrationStatus {
  Registration kind;
  int stat;  // 27.007: 0 not searching, 1 home, 2 searching, 3 denied, 4 unknown, 5 roaming
  std::optional<int> access_technology;  // <AcT> when reported (7 = E-UTRAN)
};
bool is_registered(int stat);  // 1 or 5
// The URC form "+CEREG: <stat>[,<tac>,<ci>[,<AcT>]]".
std::optional<RegistrationStatus> parse_registration_urc(std::string_view line);
// The read form "+CEREG: <n>,<stat>[,<tac>,<ci>[,<AcT>]]".
std::optional<RegistrationStatus> parse_registration_read(std::string_view line);
const char* describe_registration(int stat);

enum class SimState { kReady, kPinRequired, kPukRequired, kNotInserted, kOther };
SimState parse_sim_status(std::string_view line);  // +CPIN: READY / SIM PIN / SIM PUK / ...
bool cme_means_sim_missing(int cme_error);         // 10 SIM not inserted, 13 SIM failure
// +CSQ: <rssi>,<ber> -> -113 + 2*rssi dBm; 99 -> nullopt
std::optional<int> parse_csq_dbm(std::string_view line);
struct OperatorInfo {
  std::string name;
  std::optional<int> access_technology;
};
std::optional<OperatorInfo> parse_cops(std::string_view line);  // +COPS: 0,0,"<name>",<AcT>

}  // namespace modem::gpp
