#include "publish_bound.hpp"

#include <algorithm>
#include <string>

#include "modem/quectel/quectel_at.hpp"

namespace bench {

namespace {

constexpr double kPromptBytes = 4;  // "\r\n> "
constexpr double kOkBytes = 6;      // "\r\nOK\r\n"

// "\r\n+QMTPUBEX: 0,<msgid>,0\r\n"
double result_urc_bytes(int msgid) {
  return static_cast<double>(std::string("\r\n+QMTPUBEX: 0,").size() + std::to_string(msgid).size() +
                             std::string(",0\r\n").size());
}

}  // namespace

double byte_seconds(int baud) {
  return 10.0 / baud;
}

PublishBound publish_bound(const LineModel& line, const PublishShape& shape) {
  const std::string payload(shape.payload_bytes, 'x');
  const int count = std::max(1, shape.count);
  double command_bytes = 0;
  double urc_bytes = 0;
  for (int i = 0; i < count; ++i) {
    const int msgid = shape.qos == 0 ? 0 : (shape.first_msgid - 1 + i) % 65535 + 1;
    // The very command the session sends, with its CR.
    command_bytes += static_cast<double>(
        modem::quectel::mqtt_publish(0, msgid, shape.qos, false, shape.topic, payload).text.size() + 1);
    urc_bytes += result_urc_bytes(msgid);
  }
  command_bytes /= count;
  urc_bytes /= count;

  const double byte_ms = byte_seconds(line.baud) * 1000;
  const double payload_bytes = static_cast<double>(shape.payload_bytes);
  PublishBound bound;
  bound.host_to_module_bytes = command_bytes + payload_bytes;
  bound.module_to_host_bytes = kPromptBytes + kOkBytes + urc_bytes;
  // Command up, latency, prompt down, payload up: the module publishes.
  bound.until_sent_ms = (command_bytes + kPromptBytes + payload_bytes) * byte_ms + line.latency_ms;
  // Then latency again and OK down: the line is free for the next command. The result URC follows
  // while the next command goes up (the line is full duplex), so it costs the chain nothing as
  // long as it is shorter than a command, which it always is.
  bound.chain_ms = bound.until_sent_ms + line.latency_ms + kOkBytes * byte_ms;
  bound.serial_msgs_per_s = 1000.0 / bound.chain_ms;
  bound.msgs_per_s = bound.serial_msgs_per_s;
  if (shape.qos > 0) {
    // A slot of the module's window of five is taken from PUBLISH to PUBACK (the RTT); the host
    // learns it is free from the result URC, and the next publish takes it once its command,
    // prompt and payload have crossed.
    const double slot_cycle_ms = line.rtt_ms + urc_bytes * byte_ms + bound.until_sent_ms;
    bound.window_msgs_per_s = static_cast<double>(modem::quectel::kInFlightWindow) * 1000.0 / slot_cycle_ms;
    bound.msgs_per_s = std::min(bound.serial_msgs_per_s, bound.window_msgs_per_s);
  }
  return bound;
}

}  // namespace bench
