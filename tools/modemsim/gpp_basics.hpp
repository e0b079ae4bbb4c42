// The commands every module family answers the same way, whatever its vendor: ITU-T V.250 (AT,
// ATE, ATI, AT+GMI/GMM/GMR/GSN) and 3GPP TS 27.007 (identity, SIM, signal, registration and its
// URCs, operator, functionality, the clock). A personality composes one and hands it the commands it does not
// know itself; the identity the module reports is the personality's to give.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "at_command_line.hpp"
#include "module_clock.hpp"
#include "personality.hpp"
#include "world.hpp"

namespace modemsim {

class AtServer;

// Who the module says it is.
struct GppIdentity {
  std::string manufacturer;      // AT+CGMI, AT+GMI
  std::string model;             // AT+CGMM, AT+GMM
  std::string revision;          // AT+CGMR, AT+GMR
  std::string imei;              // AT+CGSN, AT+GSN
  std::string imsi;              // AT+CIMI
  std::vector<std::string> ati;  // ATI: its information lines, in the vendor's own layout
};

// What the basics cannot do alone: they belong to the vendor's side of the module.
struct GppHooks {
  // AT+CFUN=0 or 4: the data connections the vendor's commands opened go with the radio.
  std::function<void()> radio_off;
  // AT+CFUN=1,1, called after its OK was decided.
  std::function<void()> reboot;
};

class GppBasics {
 public:
  // 3GPP TS 27.007 §9.2 codes used here and by personalities.
  static constexpr int kCmeSimNotInserted = 10;
  static constexpr int kCmeSimPinRequired = 11;
  static constexpr int kCmeIncorrectParameters = 50;

  // `clock` is the module's, which the personality owns (it resets it at power-on).
  GppBasics(AtServer& server, World& world, ModuleClock& clock, GppIdentity identity, GppHooks hooks);
  ~GppBasics();
  GppBasics(const GppBasics&) = delete;
  GppBasics& operator=(const GppBasics&) = delete;

  // Answers `command` if it is one of the shared commands; false leaves it to the personality.
  bool handle(const AtCommandLine& command, const std::shared_ptr<Reply>& reply);
  // Power loss: the registration URCs are off again, the radio is on and no PDP context survives.
  void power_cycle();
  // True when the SIM can be used; otherwise the reply is finished with the 27.007 error.
  bool sim_ready(const std::shared_ptr<Reply>& reply) const;

  const GppIdentity& identity() const { return identity_; }

 private:
  using Handler = void (GppBasics::*)(const AtCommandLine&, const std::shared_ptr<Reply>&);
  static const std::map<std::string, Handler>& handlers();

  void at(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void echo_off(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void echo_on(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void identify(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void manufacturer(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void model(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void revision(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void imei(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void imsi(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void cmee(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void cpin(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void csq(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void creg(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void cgreg(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void cereg(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void cops(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void cfun(const AtCommandLine&, const std::shared_ptr<Reply>&);
  void cclk(const AtCommandLine&, const std::shared_ptr<Reply>&);

  void registration(const AtCommandLine&, const std::shared_ptr<Reply>&, const char* name, int& mode);
  std::string registration_line(const char* name, int mode, bool read) const;
  int registration_stat() const;
  void registration_changed();

  AtServer& server_;
  World& world_;
  ModuleClock& clock_;
  GppIdentity identity_;
  GppHooks hooks_;
  int creg_mode_ = 0;  // AT+CREG=<n>, and likewise for CGREG and CEREG
  int cgreg_mode_ = 0;
  int cereg_mode_ = 0;
};

}  // namespace modemsim
