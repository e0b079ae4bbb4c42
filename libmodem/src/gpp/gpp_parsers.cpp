// Parsers for the 3GPP TS 27.007 lines every family sends (+CEREG/+CGREG/+CREG, +CPIN, +CSQ,
// +COPS) and the V.250 ATI answer. Every parser takes one line as the framer delivers it and
// returns nullopt for anything it does not recognise; optional blanks after the colon and after
// commas are accepted (field-notes.md 2.7).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "at/lexing.hpp"
#include "modem/gpp/gpp.hpp"

namespace modem::gpp {

using namespace lexing;

// ---- identity -------------------------------------------------------------------------------------

Identity parse_identity(const std::vector<std::string>& lines) {
  Identity id;
  std::size_t bare = 0;
  for (const std::string& line : lines) {
    if (line.starts_with("Revision:")) {
      id.revision = std::string(trim(std::string_view(line).substr(9)));
    } else if (bare == 0) {
      id.manufacturer = line;
      ++bare;
    } else if (bare == 1) {
      id.model = line;
      ++bare;
    }
  }
  return id;
}

std::string parse_identity_line(std::string_view line) {
  for (const std::string_view prefix : {"+CGMI:", "+CGMM:", "+CGMR:"}) {
    if (line.starts_with(prefix)) return std::string(trim(line.substr(prefix.size())));
  }
  return std::string(trim(line));
}

// ---- registration and network -----------------------------------------------------------------

namespace {

std::optional<std::pair<Registration, std::string_view>> registration_kind(std::string_view line) {
  for (const Registration kind : {Registration::kCs, Registration::kGprs, Registration::kEps}) {
    if (line.starts_with(prefix(kind))) return std::pair{kind, std::string_view(prefix(kind))};
  }
  return std::nullopt;
}

// <lac|tac>,<ci> are quoted hex strings, and may be left empty from 27.007 n=3 on.
bool is_location_field(std::string_view s) {
  return s.empty() || unquote(s).has_value();
}

// The fields from <stat> on: <stat>[,<tac>,<ci>[,<AcT>[,...]]].
std::optional<RegistrationStatus> registration_from(Registration kind,
                                                    const std::vector<std::string_view>& args,
                                                    std::size_t stat_at) {
  const std::size_t n = args.size() - stat_at;
  if (n == 2) return std::nullopt;  // <stat> and half a location
  const auto stat = to_int_in(args[stat_at], 0, 255);
  if (!stat) return std::nullopt;
  RegistrationStatus status{kind, *stat, std::nullopt};
  if (n >= 3) {
    if (!is_location_field(args[stat_at + 1]) || !is_location_field(args[stat_at + 2])) return std::nullopt;
  }
  if (n >= 4 && !args[stat_at + 3].empty()) {
    status.access_technology = to_int_in(args[stat_at + 3], 0, 255);
    if (!status.access_technology) return std::nullopt;
  }
  return status;
}

}  // namespace

const char* prefix(Registration kind) {
  switch (kind) {
    case Registration::kCs:
      return "+CREG:";
    case Registration::kGprs:
      return "+CGREG:";
    case Registration::kEps:
      return "+CEREG:";
  }
  return "+CREG:";
}

bool is_registered(int stat) {
  return stat == 1 || stat == 5;
}

// The URC: "+CEREG: 5" or "+CEREG: 1,"1A2B","01234567",7". "+CEREG: 0,5" is a read answer
// (<n>,<stat>: field-notes.md 1.1) and gives nullopt here.
std::optional<RegistrationStatus> parse_registration_urc(std::string_view line) {
  const auto kind = registration_kind(line);
  if (!kind) return std::nullopt;
  const auto args = arguments(line, kind->second);
  if (!args) return std::nullopt;
  return registration_from(kind->first, *args, 0);
}

std::optional<RegistrationStatus> parse_registration_read(std::string_view line) {
  const auto kind = registration_kind(line);
  if (!kind) return std::nullopt;
  const auto args = arguments(line, kind->second);
  if (!args || args->size() < 2 || !to_int_in((*args)[0], 0, 5)) return std::nullopt;
  return registration_from(kind->first, *args, 1);
}

SimState parse_sim_status(std::string_view line) {
  if (!line.starts_with("+CPIN:")) return SimState::kOther;
  const std::string_view code = trim(line.substr(6));
  if (code == "READY") return SimState::kReady;
  if (code == "SIM PIN") return SimState::kPinRequired;
  if (code == "SIM PUK") return SimState::kPukRequired;
  if (code == "NOT INSERTED") return SimState::kNotInserted;
  return SimState::kOther;  // SIM PIN2, PH-SIM PIN, NOT READY, ...
}

bool cme_means_sim_missing(int cme_error) {
  return cme_error == 10 || cme_error == 13;  // 27.007 §9.2.1: SIM not inserted, SIM failure
}

// 27.007 §8.5: <rssi> 0 = -113 dBm or less, 1 = -111, 2..30 = -109..-53, 31 = -51 or more,
// 99 = unknown; 100..191 = -116..-25 dBm (the extended range some firmware uses).
std::optional<int> parse_csq_dbm(std::string_view line) {
  const auto args = arguments(line, "+CSQ:");
  if (!args || args->size() != 2 || !to_int((*args)[1])) return std::nullopt;
  const auto rssi = to_int((*args)[0]);
  if (!rssi) return std::nullopt;
  if (*rssi >= 0 && *rssi <= 31) return -113 + 2 * *rssi;
  if (*rssi >= 100 && *rssi <= 191) return -116 + (*rssi - 100);
  return std::nullopt;
}

// +COPS: <mode>[,<format>,"<oper>"[,<AcT>]]; "+COPS: 0" (not registered) gives nullopt.
std::optional<OperatorInfo> parse_cops(std::string_view line) {
  const auto args = arguments(line, "+COPS:");
  if (!args || args->size() < 3 || !to_int((*args)[0]) || !to_int((*args)[1])) return std::nullopt;
  const auto name = unquote((*args)[2]);
  if (!name) return std::nullopt;
  OperatorInfo info{std::string(*name), std::nullopt};
  if (args->size() > 3) {
    info.access_technology = to_int((*args)[3]);
    if (!info.access_technology) return std::nullopt;
  }
  return info;
}

const char* describe_registration(int stat) {
  switch (stat) {
    case 0:
      return "not registered, not searching";
    case 1:
      return "registered, home network";
    case 2:
      return "not registered, searching";
    case 3:
      return "registration denied";
    case 4:
      return "unknown (e.g. out of coverage)";
    case 5:
      return "registered, roaming";
    default:
      return "registration status not handled";
  }
}

}  // namespace modem::gpp
