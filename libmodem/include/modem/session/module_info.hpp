// What the session knows about the module and its network, for status reports and log lines.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "modem/clock.hpp"

namespace modem::session {

struct ModuleInfo {
  std::string manufacturer;
  std::string model;
  std::string revision;
  std::string family;  // the dialect driving it: "Quectel EC200U"
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
  // How the module last reported its MQTT connection closed (+QMTSTAT on Quectel), decoded.
  struct Close {
    int code = 0;
    std::string meaning;
  };
  std::optional<Close> last_close;
  // With TLS on: how the module's clock was found valid, and the last TLS failure in words.
  struct Tls {
    std::string clock_source;  // "network", "ntp", "module" (it was already valid); "" not yet
    std::optional<std::chrono::system_clock::time_point> module_time;  // as last read from it
    std::string last_error;                                            // cleared once a TLS connection is up
    std::string context;          // the module's SSL context as read back, for the failure log line
    unsigned files_uploaded = 0;  // since start: 0 after a restart with unchanged files
    // Files whose upload failed: replaced on the next attempt even if a file of that name is there.
    std::vector<std::string> suspect_files;
  };
  std::optional<Tls> tls;
  std::vector<std::string> refused_filters;  // subscriptions the broker refused (SUBACK 0x80)
  std::optional<TimePoint> connected_since;  // the MQTT session's current uptime starts here
};

}  // namespace modem::session
