// What /proc says about another process: its resident memory, CPU time and context switches (each
// time one of its threads went to sleep and woke again counts as a voluntary switch, so their rate
// over an idle period is its wake-ups per second).
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace bench {

struct ProcessSample {
  std::uint64_t rss_kib = 0;
  std::uint64_t rss_peak_kib = 0;  // VmHWM: the most it ever had resident
  // RSS counts every page of the shared libraries it maps (libc, libstdc++, libcrypto through
  // libmosquitto) in full; PSS shares them out among the processes using them, and the anonymous
  // memory (heap, stacks) is the daemon's alone.
  std::uint64_t pss_kib = 0;
  std::uint64_t anonymous_kib = 0;
  double cpu_s = 0;                    // user + system, all threads
  std::uint64_t context_switches = 0;  // voluntary + involuntary, all threads
};

ProcessSample sample_process(pid_t pid);

}  // namespace bench
