// The real modemsim binary as a test's module: started on a fresh link path in a temp dir,
// waited for through inotify until its symlink appears (its readiness signal), driven through
// its pty and its control socket, stopped with SIGTERM.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "modem/transport/serial_port.hpp"

namespace test_support {

// The environment variable that makes every modemsim a test starts play another module
// (ec200u, ec2x, ec200x) unless the test names one.
inline constexpr const char* kModelVariable = "CELLMQTT_TEST_MODEMSIM_MODEL";

// The module a test's modemsim plays (kModelVariable, else modemsim's default, the EC200U): its
// --model, the model ATI names, and the family cellmqttd's "auto" must recognise it as.
struct SimulatedModule {
  std::string flag;       // "ec2x"
  std::string ati_model;  // "EC25"
  std::string family;     // "Quectel EC2x/EG9x/EM05"
};
SimulatedModule simulated_module();

struct ModemsimOptions {
  int broker_port = 0;
  std::vector<std::string> extra_args;  // e.g. {"--rtt-ms", "300"}
};

class ModemsimProcess {
 public:
  static ModemsimProcess start(const ModemsimOptions& options);
  ModemsimProcess(ModemsimProcess&& other) noexcept;
  ModemsimProcess& operator=(ModemsimProcess&&) = delete;
  ~ModemsimProcess();

  const std::string& link() const { return link_; }
  // What modemsim wrote to stderr (its AT trace with -v).
  std::string log() const;
  // One control command, one answer line (without its newline).
  std::string control(std::string_view command) const;
  // SIGTERM and wait; true if it exited 0 and removed its link.
  bool stop();

 private:
  ModemsimProcess(std::string dir, pid_t pid);
  std::string dir_;
  std::string link_;
  std::string control_path_;
  pid_t pid_ = -1;
};

// A raw terminal on the module's port: what a person with picocom sees, byte for byte.
class AtTerminal {
 public:
  explicit AtTerminal(const std::string& path);
  // Writes `bytes` and returns everything the module sends until the output contains `until`
  // (a final result, a URC). A limit guards against a hang; it is not a timing assertion.
  std::string exchange(std::string_view bytes, std::string_view until,
                       std::chrono::milliseconds limit = std::chrono::seconds(10));
  std::string read_until(std::string_view until, std::chrono::milliseconds limit = std::chrono::seconds(10));
  // Reads until `done(output so far)` holds.
  std::string read_until(const std::function<bool(const std::string&)>& done,
                         std::chrono::milliseconds limit = std::chrono::seconds(10));
  void write(std::string_view bytes);
  // Reads what arrives within `window`: for asserting that nothing (more) comes.
  std::string drain(std::chrono::milliseconds window);

 private:
  std::unique_ptr<modem::SerialPort> port_;
  std::string pending_;  // read past the last `until`
};

}  // namespace test_support
