// The URCs of a Quectel module for one session, decoded into the session's events: RDY, +QMTSTAT,
// +QIURC "pdpdeact", +QMTRECV (framed so that no topic or payload can forge a line:
// quectel_recv.cpp), the progress of publishes, +QMTPING. What reading +QMTRECV has learnt about
// the firmware (whether it writes the length it was asked for) lives here, for the session's life.
#pragma once

#include <string_view>
#include <vector>

#include "modem/at/channel.hpp"
#include "modem/quectel/quectel_at.hpp"
#include "modem/quectel/quectel_variants.hpp"
#include "modem/session/dialect.hpp"

namespace modem::quectel {

class QuectelLink final : public session::DialectLink {
 public:
  QuectelLink(at::Channel& channel, const Variant& variant, int client, int context_id,
              session::DialectEvents events);
  ~QuectelLink() override;
  QuectelLink(const QuectelLink&) = delete;
  QuectelLink& operator=(const QuectelLink&) = delete;

  void take_read_answer(const at::Result& result) override;

 private:
  void on_qmtstat(std::string_view line);
  void on_qmtrecv(std::string_view line);
  void on_packet_progress(std::string_view line);
  void refuse(std::string_view why, std::string_view line);

  at::Channel& channel_;
  const Variant& variant_;
  int client_;
  int context_id_;
  session::DialectEvents events_;
  std::vector<at::UrcRegistry::HandlerId> handlers_;
  // recv/mode is set with <msg_len_enable> 1; firmware that ignores it is read without a length
  // once it shows itself.
  RecvFraming framing_ = RecvFraming::kWithLength;
};

}  // namespace modem::quectel
