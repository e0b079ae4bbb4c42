// The V.250 and 3GPP TS 27.007 commands every family shares. Timeouts are the maximum response
// times Quectel's AT manuals give, which no other family's documents contradict.
#include <chrono>
#include <string>

#include "at/command_text.hpp"
#include "modem/gpp/gpp.hpp"

namespace modem::gpp {

namespace {

using std::chrono::seconds;

// AT+CPIN: 5 s (Quectel AT manual): the SIM is read on the first query after boot.
constexpr seconds kSimTimeout{5};
constexpr seconds kCfunTimeout{15};  // AT+CFUN: 15 s
// AT+COPS: 180 s is documented for network scans and manual selection; the read form answers
// from the module's state at once. 5 s leaves room for a busy module without hiding a stuck one.
constexpr seconds kCopsReadTimeout{5};

const char* registration_command(Registration kind) {
  switch (kind) {
    case Registration::kCs:
      return "AT+CREG";
    case Registration::kGprs:
      return "AT+CGREG";
    case Registration::kEps:
      return "AT+CEREG";
  }
  return "AT+CREG";
}

}  // namespace

at::Command probe() {
  return at::make_command("AT");
}
at::Command echo_off() {
  return at::make_command("ATE0");
}
at::Command numeric_errors() {
  return at::make_command("AT+CMEE=1");
}
// ATI answers with bare lines: "Quectel", "<model>", "Revision: <rev>" (field-notes.md 1.6).
at::Command identify() {
  return at::with_plain_lines("ATI");
}
at::Command manufacturer() {
  return at::with_plain_lines("AT+CGMI");
}
at::Command model() {
  return at::with_plain_lines("AT+CGMM");
}
at::Command revision() {
  return at::with_plain_lines("AT+CGMR");
}
at::Command imei() {
  return at::with_plain_lines("AT+CGSN");
}
at::Command imsi() {
  return at::with_plain_lines("AT+CIMI");
}
at::Command sim_status() {
  return at::with_prefix("AT+CPIN?", "+CPIN:", kSimTimeout);
}

// n=2: the URC carries <stat>, the location and <AcT>, so a cell change is visible in the log.
at::Command enable_registration_urcs(Registration kind) {
  return at::make_command(std::string(registration_command(kind)) + "=2");
}
at::Command query_registration(Registration kind) {
  return at::with_prefix(std::string(registration_command(kind)) + "?", prefix(kind));
}

at::Command signal_quality() {
  return at::with_prefix("AT+CSQ", "+CSQ:");
}
at::Command operator_name() {
  return at::with_prefix("AT+COPS?", "+COPS:", kCopsReadTimeout);
}
at::Command set_functionality(int fun) {
  return at::make_command("AT+CFUN=" + std::to_string(fun), kCfunTimeout);
}
// OK, then "POWERED DOWN" and seconds of silence until "RDY" (field-notes.md 1.6).
at::Command reset_module() {
  return at::make_command("AT+CFUN=1,1", kCfunTimeout);
}

}  // namespace modem::gpp
