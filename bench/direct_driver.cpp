#include "direct_driver.hpp"

#include <stdexcept>

#include "modem/quectel/quectel_at.hpp"

namespace bench {

namespace {
const std::string kOk = "\r\nOK\r\n";
}  // namespace

DirectDriver::DirectDriver(const std::string& link) : terminal_(link) {
  expect("ATE0\r", kOk);
  expect("AT+QIACT=1\r", kOk);
  expect("AT+QMTOPEN=0,\"broker\",1883\r", "+QMTOPEN: 0,0\r\n");
  expect("AT+QMTCONN=0,\"bench-direct\"\r", "+QMTCONN: 0,0,0\r\n");
}

void DirectDriver::expect(const std::string& command, const std::string& until) {
  const std::string answer = terminal_.exchange(command, until);
  if (!answer.ends_with(until)) throw std::runtime_error("direct driver: " + command + " got " + answer);
}

void DirectDriver::publish(const std::string& topic, const std::string& payload, int qos) {
  const int msgid = qos == 0 ? 0 : next_msgid_;
  if (qos > 0) next_msgid_ = next_msgid_ % 65535 + 1;
  // The session's own command text, so both move the same bytes.
  expect(modem::quectel::mqtt_publish(0, msgid, qos, false, topic, payload).text + "\r", "\r\n> ");
  expect(payload, kOk);
}

}  // namespace bench
