// The module without the daemon: a bare AT client on modemsim's pty that publishes with the same
// AT+QMTPUBEX exchange the session uses, one publish after another, waiting for nothing it does not
// have to. It calibrates the benchmarks: what the line, modemsim, the upstream broker and the
// subscriber take on their own, so the report can tell the daemon's time from the test bed's.
#pragma once

#include <string>

#include "support/modemsim_process.hpp"

namespace bench {

class DirectDriver {
 public:
  // Opens the port and brings the module to a connected MQTT client 0 (echo off, PDP context,
  // QMTOPEN, QMTCONN). Throws when the module does not answer as expected.
  explicit DirectDriver(const std::string& link);

  // Command, prompt, payload, OK. Returns once the OK has arrived (the result URC is not waited
  // for: at RTT 0 it follows at once and the window never fills).
  void publish(const std::string& topic, const std::string& payload, int qos);

 private:
  void expect(const std::string& command, const std::string& until);

  test_support::AtTerminal terminal_;
  int next_msgid_ = 1;
};

}  // namespace bench
