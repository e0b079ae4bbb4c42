// The simulated world around the module's AT port: SIM, radio, network registration, signal and
// PDP contexts. Dialect-neutral: personalities read and change it, faults change it, and the
// personality is told about changes so it can report them in its own URC syntax.
#pragma once

#include <functional>
#include <map>
#include <string>

namespace modemsim {

struct PdpContext {
  int type = 1;  // 1 IPv4, 2 IPv6, 3 IPv4v6 (AT+QICSGP <context_type>)
  std::string apn;
  std::string username;
  std::string password;
  int auth = 0;
  bool active = false;
  std::string address;
};

struct World {
  enum class Sim { kReady, kAbsent, kPinRequired };

  Sim sim = Sim::kReady;
  bool radio_on = true;    // AT+CFUN=1
  bool network_up = true;  // the control socket's "network down|up"
  bool ntp_fails = false;  // the control socket's "ntp-fail on|off": the NTP server's name does not resolve
  int csq_rssi = 24;       // AT+CSQ units: -113 + 2 * rssi dBm
  std::string operator_name = "modemsim";
  std::string operator_numeric = "00101";
  std::map<int, PdpContext> contexts;

  bool registered() const { return sim == Sim::kReady && radio_on && network_up; }

  // Told to the personality, which reports them in its dialect.
  std::function<void()> on_registration_changed;
  std::function<void(int cid)> on_pdp_deactivated;

  void set_registration_inputs(bool radio, bool network) {
    const bool before = registered();
    radio_on = radio;
    network_up = network;
    if (before != registered() && on_registration_changed) on_registration_changed();
  }
  void deactivate(int cid) {
    auto it = contexts.find(cid);
    if (it == contexts.end() || !it->second.active) return;
    it->second.active = false;
    it->second.address.clear();
    if (on_pdp_deactivated) on_pdp_deactivated(cid);
  }
};

}  // namespace modemsim
