// The modemsim end-to-end fixture: a real mosquitto on a free loopback port, the real modemsim
// binary on a pseudo-terminal, and the test typing at it as a person with picocom would. Shared by
// the modemsim suites (commands, files, clock, TLS); each derives its own fixture from it.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "support/modemsim_process.hpp"
#include "support/mosquitto_broker.hpp"

namespace modemsim_e2e {

inline const std::string kOk = "\r\nOK\r\n";
inline const std::string kError = "\r\nERROR\r\n";

inline std::string info(std::initializer_list<std::string> lines) {
  std::string out;
  for (const auto& l : lines)
    out += "\r\n" + l + "\r\n";
  return out;
}

class ModemsimTerminal : public ::testing::Test {
 protected:
  void start(std::vector<std::string> args = {}, test_support::BrokerOptions broker_options = {}) {
    term.reset();
    sim.reset();
    broker.emplace(test_support::MosquittoBroker::start(std::move(broker_options)));
    sim.emplace(test_support::ModemsimProcess::start({broker->port(), std::move(args)}));
    term.emplace(sim->link());
    // Echo is on after boot, as on real modules: "ATE0\r" comes back before the OK.
    ASSERT_EQ(term->exchange("ATE0\r", kOk), "ATE0\r" + kOk);
  }
  void SetUp() override { start(); }

  // Sends a command line and returns the module's answer up to its final result or prompt.
  std::string answer(const std::string& line) {
    term->write(line + "\r");
    return term->read_until([](const std::string& out) {
      return out.ends_with(kOk) || out.ends_with(kError) || out.ends_with("\r\n> ") ||
             (out.find("+CME ERROR:") != std::string::npos && out.ends_with("\r\n"));
    });
  }
  void expect(const std::string& line, const std::string& response) {
    EXPECT_EQ(answer(line), response) << line;
  }
  // A URC that follows: "\r\n<urc>\r\n".
  void expect_urc(const std::string& urc) {
    EXPECT_EQ(term->read_until(urc + "\r\n"), "\r\n" + urc + "\r\n");
  }

  void open_and_connect(const std::string& client_id = "sim-test") {
    expect("AT+QICSGP=1,1,\"internet\",\"\",\"\",1", kOk);
    expect("AT+QIACT=1", kOk);
    expect("AT+QMTOPEN=0,\"broker.example.com\",1883", kOk);
    expect_urc("+QMTOPEN: 0,0");
    expect("AT+QMTCONN=0,\"" + client_id + "\"", kOk);
    expect_urc("+QMTCONN: 0,0,0");
  }

  std::optional<test_support::MosquittoBroker> broker;
  std::optional<test_support::ModemsimProcess> sim;
  std::optional<test_support::AtTerminal> term;
};

}  // namespace modemsim_e2e
