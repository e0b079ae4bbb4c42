// What the session knows about the module and its network, for status reports and log lines.
#pragma once

#include <optional>
#include <string>

#include "modem/clock.hpp"

namespace modem::session {

struct ModuleInfo {
  std::string manufacturer;
  std::string model;
  std::string revision;
  std::string imei;
  std::string iccid;
  std::string imsi;
  std::optional<int> rssi_dbm;
  std::string operator_name;
  std::string access_technology;  // "FDD LTE", or the 27.007 <AcT> in words
  std::string band;
  int registration = 0;  // 27.007 <stat> of the packet-switched (EPS, else GPRS) registration
  bool pdp_active = false;
  std::string pdp_address;
  std::optional<int> last_qmtstat;
  std::optional<TimePoint> connected_since;  // the MQTT session's current uptime starts here
};

}  // namespace modem::session
