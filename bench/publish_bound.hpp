// The physical bound on upstream publishes through the module, computed from the bytes each
// publish must move across the serial line (as libmodem's own AT+QMTPUBEX builder writes them)
// and the waits the module model imposes (modemsim's --latency-ms and --rtt-ms). The benchmarks
// compare what cellmqttd achieves with this figure; nothing here is measured.
#pragma once

#include <cstddef>
#include <string>

namespace bench {

struct LineModel {
  int baud = 115200;      // 8N1: ten bit times a byte
  double latency_ms = 0;  // the module's processing time before the prompt and before OK
  double rtt_ms = 0;      // network round trip before the broker's PUBACK
};

struct PublishShape {
  int qos = 1;
  std::string topic;  // as it goes upstream
  std::size_t payload_bytes = 16;
  // Message ids the session would use, first .. first+count-1 (their digits change the command's
  // length); QoS 0 always uses 0.
  int first_msgid = 1;
  int count = 1;
};

struct PublishBound {
  double host_to_module_bytes = 0;  // mean per publish: the command line and the payload
  double module_to_host_bytes = 0;  // the "> " prompt, OK and the +QMTPUBEX result
  double chain_ms = 0;              // one publish's request/response chain on the line
  double until_sent_ms = 0;         // command, latency, prompt, payload: the module sends PUBLISH
  double serial_msgs_per_s = 0;     // one chain after another
  double window_msgs_per_s = 0;     // QoS > 0: five in flight per slot cycle (0 for QoS 0)
  double msgs_per_s = 0;            // the lesser of the two
};

// Seconds one byte takes on the line at `baud`, 8N1.
double byte_seconds(int baud);

PublishBound publish_bound(const LineModel& line, const PublishShape& shape);

}  // namespace bench
