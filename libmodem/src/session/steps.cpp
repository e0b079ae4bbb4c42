#include "modem/session/steps.hpp"

#include <fmt/format.h>

#include "modem/gpp/gpp.hpp"

namespace modem::session {

using Kind = Failure::Kind;

Failure failure(Kind kind, std::string text, Rung rung, bool counts, std::optional<int> code) {
  Failure f;
  f.kind = kind;
  f.text = std::move(text);
  f.rung = rung;
  f.counts = counts;
  f.code = code;
  return f;
}

Failure failed(const at::Result& r, std::string_view what, Kind refused) {
  const bool silent = r.code == at::ResultCode::kTimeout || r.code == at::ResultCode::kAborted;
  return failure(silent ? Kind::kNoAnswer : refused, fmt::format("{}: {}", what, at::describe(r)));
}

Step required(at::Command command) {
  std::string what = command.loggable();
  return {std::move(command),
          [what = std::move(what)](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
            if (r.ok()) return std::nullopt;
            return failed(r, what);
          }};
}

Step optional_step(at::Command command) {
  return {std::move(command),
          [](const at::Result&, ModuleInfo&) -> std::optional<Failure> { return std::nullopt; }};
}

std::string first_line(const at::Result& r) {
  return r.lines.empty() ? std::string() : r.lines.front();
}

Step imei_step() {
  return {gpp::imei(), [](const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
            if (r.ok()) info.imei = first_line(r);
            return std::nullopt;
          }};
}

Step sim_step() {
  return {
      gpp::sim_status(), [](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
        // 27.007 §9.2: +CME ERROR 10 "SIM not inserted", 13 "SIM failure".
        if (r.code == at::ResultCode::kCmeError && gpp::cme_means_sim_missing(r.error_code)) {
          return failure(Kind::kSimMissing,
                         "SIM not inserted or not detected: insert a SIM (power the gateway off first; most "
                         "modules detect a SIM only at power-on)");
        }
        if (!r.ok()) return failed(r, "AT+CPIN? failed");
        switch (gpp::parse_sim_status(first_line(r))) {
          case gpp::SimState::kReady:
            return std::nullopt;
          case gpp::SimState::kPinRequired:
            return failure(Kind::kSimLocked,
                           "SIM wants a PIN: remove the PIN lock (put the SIM in a phone and disable it); "
                           "cellmqttd does not enter PINs");
          case gpp::SimState::kPukRequired:
            return failure(Kind::kSimLocked, "SIM is PUK-locked: unlock it in a phone");
          case gpp::SimState::kNotInserted:
            return failure(Kind::kSimMissing, "SIM not inserted: insert a SIM and power-cycle the gateway");
          case gpp::SimState::kOther:
            return failure(Kind::kSimNotReady, "SIM not ready (" + first_line(r) + ")");
        }
        return std::nullopt;
      }};
}

Step imsi_step() {
  return {gpp::imsi(), [](const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
            if (r.ok()) info.imsi = first_line(r);
            return std::nullopt;
          }};
}

bool is_tls_failure(Failure::Kind kind) {
  return kind == Failure::Kind::kTlsFile || kind == Failure::Kind::kClockUnset ||
         kind == Failure::Kind::kCertificateTime || kind == Failure::Kind::kTlsFailed;
}

bool is_sim_failure(Kind kind) {
  return kind == Kind::kSimMissing || kind == Kind::kSimLocked || kind == Kind::kSimNotReady;
}

}  // namespace modem::session
