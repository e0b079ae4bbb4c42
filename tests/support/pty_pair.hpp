// A pseudo-terminal pair standing in for a cellular module: the code under test opens the slave
// path as it would /dev/ttyUSB2, and the test plays the module on the master.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace test_support {

class PtyPair {
 public:
  // A new pair with the master open (non-blocking) and the slave not yet opened by anyone. The
  // slave is put in raw mode (set through the master) so that no byte is translated or echoed
  // even before the code under test configures it. Throws std::runtime_error on failure.
  static PtyPair open();

  PtyPair(PtyPair&& other) noexcept;
  PtyPair& operator=(PtyPair&& other) noexcept;
  PtyPair(const PtyPair&) = delete;
  PtyPair& operator=(const PtyPair&) = delete;
  ~PtyPair();

  int master_fd() const { return master_fd_; }
  const std::string& slave_path() const { return slave_path_; }
  // Simulates the device vanishing (USB unplug): the slave side is hung up.
  void close_master();

 private:
  PtyPair(int master_fd, std::string slave_path);

  int master_fd_ = -1;
  std::string slave_path_;
};

// Reads from `master_fd` (non-blocking), polling, until `n_bytes` arrived or `limit` passed, and
// returns what arrived (possibly fewer bytes). The limit is a safety net against a hanging test,
// not a timing assertion: make it generous. Throws std::runtime_error on a read error other than
// EIO (EIO just means the slave side is closed: the bytes so far are returned).
std::string read_master_until(int master_fd, std::size_t n_bytes, std::chrono::milliseconds limit);

// Writes all of `bytes` to `fd`, polling while it would block. Throws std::runtime_error on error
// or when the fd stays unwritable for seconds (a hang, not a result).
void write_all(int fd, std::string_view bytes);

}  // namespace test_support
