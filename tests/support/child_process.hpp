// Starting and reaping the helper programs the end-to-end tests and the benchmarks run (mosquitto,
// the shaped link, the field guide's script): one place for the fork/exec rules they all need.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace test_support {

// Starts `argv` with stdin from /dev/null, stdout and stderr appended to `output`, and no other fd:
// a broker that inherited a client socket of the test would keep that connection alive after the
// test closed it, and the broker would never see the close. The child dies with the test process
// (PR_SET_PDEATHSIG), so a test that crashes leaves nothing behind. Throws if fork fails.
pid_t spawn_process(const std::vector<std::string>& argv, const std::string& output);

// Waits for `pid` to exit, at most until `deadline`; returns its wait status, or nullopt if it is
// still running. Waits on a pidfd, so the wait ends the moment the process does.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::steady_clock::time_point deadline);

// SIGTERM, then SIGKILL if it is still there after `grace`; reaps it. Returns its wait status.
int stop_process(pid_t pid, std::chrono::milliseconds grace = std::chrono::seconds(10));

// The program from PATH, else from `fallback_dir` (Debian installs mosquitto in /usr/sbin, which
// is not on a normal user's PATH). Throws naming the Debian package when it is in neither.
std::string find_program(const std::string& name, const std::string& fallback_dir);

// Milliseconds until `deadline`, 0 once it has passed (for poll()).
int remaining_ms(std::chrono::steady_clock::time_point deadline);

}  // namespace test_support
