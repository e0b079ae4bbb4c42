// The simulated module as a whole: its serial line, command server, world and personality, its
// power (boot, reboot), and the faults and figures the control socket asks for.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "at_server.hpp"
#include "modem/transport/event_loop.hpp"
#include "personality.hpp"
#include "quectel_personality.hpp"
#include "serial_line.hpp"
#include "world.hpp"

namespace modemsim {

struct SimOptions {
  std::string link;  // --link: symlink to the pty slave
  std::string broker_host = "127.0.0.1";
  int broker_port = 1883;        // --broker HOST:PORT
  std::string control;           // --control: UNIX socket path, empty for none
  std::string model = "ec200u";  // --model: a row of quectel_models.hpp
  int baud = 0;                  // 0: unpaced
  int latency_ms = 0;            // processing time before OK or the prompt
  int rtt_ms = 0;                // network round trip before server-acknowledged results
  int boot_ms = 0;               // silence before the boot URCs
  bool echo = true;              // ATE1 after boot, as real modules
  // --recv-form: how +QMTRECV carries a message when AT+QMTCFG="recv/mode" asks for the length
  RecvForm recv_form = RecvForm::kDocumented;
  bool network_time = false;  // --network-time: the network gives its time (NITZ) at registration
  bool verbose = false;
};

class SimModule {
 public:
  SimModule(modem::EventLoop& loop, int pty_master_fd, const SimOptions& options);
  ~SimModule();

  // Powers the module on: silence for boot_ms, then the boot URCs; `ready` runs once, the first
  // time the module answers.
  void power_on(std::function<void()> ready = {});
  void reboot();
  // One control-socket command line; returns the answer line ("ok", "err <reason>" or JSON).
  std::string control(std::string_view command_line);

  SerialLine& line() { return line_; }
  // The module it plays, for people: "Quectel EC25".
  std::string description() const { return personality_->description(); }

 private:
  std::string stats_json() const;

  modem::EventLoop& loop_;
  SimOptions options_;
  SerialLine line_;
  AtServer server_;
  World world_;
  std::unique_ptr<Personality> personality_;
  std::uint64_t power_generation_ = 0;
  std::function<void()> ready_;
};

}  // namespace modemsim
