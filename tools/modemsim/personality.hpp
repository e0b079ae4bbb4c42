// A module personality: one vendor's AT dialect on top of the simulated world. The machinery
// (pty, timing, command server, faults) knows nothing of command names; a personality knows
// nothing of ptys or timing. A new module family is a new personality.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "at_command_line.hpp"

namespace modemsim {

class AtServer;

// How a personality answers one command. It may answer at once or keep the reply and finish it
// later (a data phase, a slow activation); the server processes the next command only after this
// one's final result, as a module does.
class Reply {
 public:
  explicit Reply(AtServer& server) : server_(server) {}

  void line(std::string text) { lines_.push_back(std::move(text)); }
  void ok() { finish("OK"); }
  void error() { finish("ERROR"); }
  // +CME ERROR: <n>, or a plain ERROR under AT+CMEE=0 (3GPP TS 27.007 §9.1).
  void cme_error(int code);
  // Whether the data after "> " is echoed: as the command echo (ATE) says, or always.
  enum class DataEcho { kAsCommands, kAlways };
  // "> ", then exactly `length` bytes of data for `on_data` (AT+QMTPUBEX, AT+QMTPUB with length).
  void prompt(std::size_t length, std::function<void(std::string)> on_data,
              DataEcho echo = DataEcho::kAsCommands);
  // "> ", then data up to Ctrl-Z (0x1A), which is not part of it (AT+QMTPUB without length).
  void prompt_until_ctrl_z(std::function<void(std::string)> on_data);
  // A raw upload (AT+QFUPL): the line CONNECT, then exactly `length` bytes for `on_data`, never
  // echoed and never read as commands. If they have not all come `timeout` after CONNECT,
  // `on_timeout` runs instead and what came is dropped. `ack_every` > 0: the module writes "A"
  // after each `ack_every` bytes but the last (the upload's ACK mode, field-notes.md 3.3).
  struct Upload {
    std::size_t length = 0;
    std::chrono::milliseconds timeout{0};
    std::size_t ack_every = 0;
    std::function<void(std::string)> on_data;
    std::function<void()> on_timeout;
  };
  void upload(Upload upload);
  bool finished() const { return finished_; }

 private:
  friend class AtServer;
  void finish(std::string final_line);

  AtServer& server_;
  std::vector<std::string> lines_;
  bool finished_ = false;
};

class Personality {
 public:
  virtual ~Personality() = default;
  // The module it plays, for people: "Quectel EC200U".
  virtual std::string description() const = 0;
  // The unsolicited lines a module sends when it has booted (field-notes.md 1.4).
  virtual std::vector<std::string> boot_urcs() const = 0;
  virtual void handle(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) = 0;
  // The command line as the -v trace may show it: passwords masked.
  virtual std::string redact(std::string_view command_line) const = 0;
  // Forget everything volatile: the module lost power (QMTCFG settings do not survive it,
  // field-notes.md 2.4).
  virtual void power_cycle() = 0;

  // Faults and figures for the control socket, in dialect-neutral terms. A fault returns an
  // error text, or an empty string when it was applied.
  virtual std::string drop_mqtt_session(int client, int code) = 0;  // +QMTSTAT: <client>,<code>
  virtual void network_changed() = 0;                               // World::network_up changed
  virtual std::string fail_next(const std::string& command, int code) = 0;
  struct MqttFigures {
    std::uint64_t messages_up = 0;    // publishes handed to the broker
    std::uint64_t messages_down = 0;  // messages received from the broker
    std::size_t sessions = 0;         // clients connected now
    std::size_t max_in_flight = 0;    // the most QoS 1/2 publishes outstanding at once, ever
  };
  virtual MqttFigures mqtt_figures() const = 0;
  // The module's own services, counted over the process's life (reboots included).
  struct ServiceFigures {
    std::uint64_t files_uploaded = 0;  // uploads that stored their file (+QFUPL: <size>,<checksum>)
    std::uint64_t files_deleted = 0;   // delete commands answered OK (one for "*", however many went)
    std::uint64_t ntp_syncs = 0;       // NTP requests that got the time (+QNTP: 0,...)
  };
  virtual ServiceFigures service_figures() const = 0;
};

}  // namespace modemsim
