#include "gpp_basics.hpp"

#include <fmt/format.h>

#include <map>

#include "at_server.hpp"

namespace modemsim {

namespace {

bool in_range(std::optional<long> v, long lo, long hi) {
  return v && *v >= lo && *v <= hi;
}

}  // namespace

GppBasics::GppBasics(AtServer& server, World& world, ModuleClock& clock, GppIdentity identity, GppHooks hooks)
    : server_(server),
      world_(world),
      clock_(clock),
      identity_(std::move(identity)),
      hooks_(std::move(hooks)) {
  world_.on_registration_changed = [this] { registration_changed(); };
}

GppBasics::~GppBasics() {
  world_.on_registration_changed = nullptr;
}

const std::map<std::string, GppBasics::Handler>& GppBasics::handlers() {
  static const std::map<std::string, Handler> table = {
      {"", &GppBasics::at},
      {"E0", &GppBasics::echo_off},
      {"E1", &GppBasics::echo_on},
      {"E", &GppBasics::echo_off},  // V.250 §6.2.4: a missing value is 0
      {"I", &GppBasics::identify},
      {"I0", &GppBasics::identify},
      {"+CGMI", &GppBasics::manufacturer},
      {"+GMI", &GppBasics::manufacturer},
      {"+CGMM", &GppBasics::model},
      {"+GMM", &GppBasics::model},
      {"+CGMR", &GppBasics::revision},
      {"+GMR", &GppBasics::revision},
      {"+GSN", &GppBasics::imei},
      {"+CGSN", &GppBasics::imei},
      {"+CIMI", &GppBasics::imsi},
      {"+CMEE", &GppBasics::cmee},
      {"+CPIN", &GppBasics::cpin},
      {"+CSQ", &GppBasics::csq},
      {"+CREG", &GppBasics::creg},
      {"+CGREG", &GppBasics::cgreg},
      {"+CEREG", &GppBasics::cereg},
      {"+COPS", &GppBasics::cops},
      {"+CFUN", &GppBasics::cfun},
      {"+CCLK", &GppBasics::cclk},
  };
  return table;
}

bool GppBasics::handle(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  const auto& table = handlers();
  const auto it = table.find(command.name);
  if (it == table.end()) return false;
  (this->*(it->second))(command, reply);
  return true;
}

void GppBasics::power_cycle() {
  creg_mode_ = cgreg_mode_ = cereg_mode_ = 0;
  for (auto& [cid, context] : world_.contexts) {
    context.active = false;
    context.address.clear();
  }
  world_.radio_on = true;
}

// ---- V.250 ----------------------------------------------------------------------------------

void GppBasics::at(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  reply->ok();
}

void GppBasics::echo_off(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  server_.set_echo(false);  // this very line was echoed already (field-notes.md 1.6, AT&FZE0)
  reply->ok();
}

void GppBasics::echo_on(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  server_.set_echo(true);
  reply->ok();
}

void GppBasics::identify(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  for (const std::string& line : identity_.ati)
    reply->line(line);
  reply->ok();
}

void GppBasics::manufacturer(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  reply->line(identity_.manufacturer);
  reply->ok();
}

void GppBasics::model(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  reply->line(identity_.model);
  reply->ok();
}

void GppBasics::revision(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  reply->line(identity_.revision);
  reply->ok();
}

void GppBasics::imei(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  if (command.form == AtCommandLine::Form::kTest) {
    reply->ok();
    return;
  }
  reply->line(identity_.imei);
  reply->ok();
}

// ---- 3GPP TS 27.007 -------------------------------------------------------------------------

bool GppBasics::sim_ready(const std::shared_ptr<Reply>& reply) const {
  switch (world_.sim) {
    case World::Sim::kReady:
      return true;
    case World::Sim::kAbsent:
      reply->cme_error(kCmeSimNotInserted);
      return false;
    case World::Sim::kPinRequired:
      reply->cme_error(kCmeSimPinRequired);
      return false;
  }
  return false;
}

void GppBasics::imsi(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  if (!sim_ready(reply)) return;
  reply->line(identity_.imsi);
  reply->ok();
}

void GppBasics::cmee(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  if (command.form == AtCommandLine::Form::kRead) {
    reply->line(fmt::format("+CMEE: {}", server_.cmee()));
    reply->ok();
  } else if (command.form == AtCommandLine::Form::kWrite && in_range(command.integer(0), 0, 2)) {
    server_.set_cmee(static_cast<int>(*command.integer(0)));
    reply->ok();
  } else {
    reply->error();
  }
}

void GppBasics::cpin(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  if (command.form != AtCommandLine::Form::kRead) {
    reply->error();
    return;
  }
  switch (world_.sim) {
    case World::Sim::kReady:
      reply->line("+CPIN: READY");
      break;
    case World::Sim::kPinRequired:
      reply->line("+CPIN: SIM PIN");
      break;
    case World::Sim::kAbsent:
      reply->cme_error(kCmeSimNotInserted);
      return;
  }
  reply->ok();
}

void GppBasics::csq(const AtCommandLine&, const std::shared_ptr<Reply>& reply) {
  // 99,99: not known or not detectable (27.007 §8.5)
  reply->line(world_.registered() ? fmt::format("+CSQ: {},99", world_.csq_rssi) : std::string("+CSQ: 99,99"));
  reply->ok();
}

int GppBasics::registration_stat() const {
  if (world_.registered()) return 1;                                   // registered, home
  if (world_.sim != World::Sim::kReady || !world_.radio_on) return 0;  // not searching
  return 2;                                                            // searching
}

std::string GppBasics::registration_line(const char* name, int mode, bool read) const {
  std::string line = std::string(name) + ": ";
  if (read) line += std::to_string(mode) + ",";
  line += std::to_string(registration_stat());
  if (mode >= 2 && registration_stat() == 1) line += ",\"1A2B\",\"0C3D4E5F\",7";
  return line;
}

void GppBasics::registration_changed() {
  // "+CREG: <stat>" and friends, for every registration URC the host enabled.
  if (creg_mode_ > 0) server_.urc(registration_line("+CREG", creg_mode_, false));
  if (cgreg_mode_ > 0) server_.urc(registration_line("+CGREG", cgreg_mode_, false));
  if (cereg_mode_ > 0) server_.urc(registration_line("+CEREG", cereg_mode_, false));
}

void GppBasics::registration(const AtCommandLine& command, const std::shared_ptr<Reply>& reply,
                             const char* name, int& mode) {
  if (command.form == AtCommandLine::Form::kRead) {
    reply->line(registration_line(name, mode, true));
    reply->ok();
  } else if (command.form == AtCommandLine::Form::kWrite && in_range(command.integer(0), 0, 2)) {
    mode = static_cast<int>(*command.integer(0));
    reply->ok();
  } else if (command.form == AtCommandLine::Form::kTest) {
    reply->line(std::string(name) + ": (0-2)");
    reply->ok();
  } else {
    reply->error();
  }
}

void GppBasics::creg(const AtCommandLine& c, const std::shared_ptr<Reply>& r) {
  registration(c, r, "+CREG", creg_mode_);
}
void GppBasics::cgreg(const AtCommandLine& c, const std::shared_ptr<Reply>& r) {
  registration(c, r, "+CGREG", cgreg_mode_);
}
void GppBasics::cereg(const AtCommandLine& c, const std::shared_ptr<Reply>& r) {
  registration(c, r, "+CEREG", cereg_mode_);
}

void GppBasics::cops(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  if (command.form != AtCommandLine::Form::kRead) {
    reply->ok();  // automatic selection is all the simulated network offers
    return;
  }
  reply->line(world_.registered() ? fmt::format("+COPS: 0,0,\"{}\",7", world_.operator_name)
                                  : std::string("+COPS: 0"));
  reply->ok();
}

void GppBasics::cfun(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  if (command.form == AtCommandLine::Form::kRead) {
    reply->line(fmt::format("+CFUN: {}", world_.radio_on ? 1 : 0));
    reply->ok();
    return;
  }
  const auto fun = command.integer(0);
  if (command.form != AtCommandLine::Form::kWrite || !(fun == 0 || fun == 1 || fun == 4)) {
    reply->error();
    return;
  }
  if (command.integer(1) == 1) {
    reply->ok();
    if (hooks_.reboot) hooks_.reboot();  // the OK goes out first: AtServer holds the reboot's silence
    return;
  }
  const bool radio = *fun == 1;
  if (!radio) {
    // Minimum functionality: the data connections go with the radio.
    if (hooks_.radio_off) hooks_.radio_off();
    for (auto& [cid, context] : world_.contexts) {
      context.active = false;
      context.address.clear();
    }
  }
  world_.set_registration_inputs(radio, world_.network_up);
  reply->ok();
}

}  // namespace modemsim

namespace modemsim {

// 27.007 §8.15: AT+CCLK? reads "yy/MM/dd,hh:mm:ss±zz", AT+CCLK="..." sets it; a value that is not
// exactly that form (quoted) is refused with ERROR.
void GppBasics::cclk(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  if (command.form == AtCommandLine::Form::kRead) {
    reply->line("+CCLK: \"" + format_cclk(clock_.read()) + "\"");
    reply->ok();
    return;
  }
  if (command.form == AtCommandLine::Form::kTest) {
    reply->ok();
    return;
  }
  const auto reading =
      command.count() == 1 && command.quoted(0) ? parse_cclk(*command.string(0)) : std::nullopt;
  if (command.form != AtCommandLine::Form::kWrite || !reading) {
    reply->error();
    return;
  }
  clock_.set(*reading);
  reply->ok();
}

}  // namespace modemsim
