#include "quectel/quectel_link.hpp"

#include <fmt/format.h>

#include <string>
#include <variant>

#include "modem/text.hpp"

namespace modem::quectel {

namespace {

constexpr std::string_view kRecvPrefix = "+QMTRECV:";
// AT+QMTRECV <recv_id>: 0-4 (five <store_status> flags, seeds/001 AT+QMTRECV?).
constexpr int kReceiveSlots = 5;

// Why a topic a message arrived on cannot be passed on, or nullopt. The broker should never
// deliver such a topic name (MQTT 3.1.1 §1.5.3, §4.7.1): a control character would forge a line
// in a log or a terminal, a wildcard is not a topic, and invalid UTF-8 no broker accepts.
std::optional<std::string> check_received_topic(std::string_view topic) {
  if (topic.empty()) return "the topic is empty";
  if (!is_valid_utf8(topic)) return "the topic is not valid UTF-8";
  if (has_control_character(topic)) return "the topic contains a control character";
  if (topic.find_first_of("+#") != std::string_view::npos) return "the topic contains a wildcard";
  return std::nullopt;
}

// What a +QMTSTAT code means for the ladder: the "what to do" column of the AN's table.
session::SessionClosed closed(const Variant& variant, int code) {
  session::SessionClosed c;
  c.code = code;
  c.meaning = describe_qmtstat(variant, code);
  switch (code) {
    case 2:  // PINGREQ timed out: the link is dead
      c.rung = session::Rung::kCyclePdp;
      break;
    case 5:  // the server closed the connection after our DISCONNECT
      c.counts = false;
      break;
    case 6:  // "Make sure the link is alive": registration and the PDP context are looked at
    case 7:  // again (queried, not cycled) before the reopen.
      c.recheck_link = true;
      break;
    default:
      break;
  }
  return c;
}

}  // namespace

QuectelLink::QuectelLink(at::Channel& channel, const Variant& variant, int client, int context_id,
                         session::DialectEvents events)
    : channel_(channel),
      variant_(variant),
      client_(client),
      context_id_(context_id),
      events_(std::move(events)) {
  channel_.add_line_reader(std::string(kRecvPrefix), [this](std::string_view first_segment, char line_break) {
    return qmtrecv_line_ends(first_segment, line_break, framing_);
  });
  channel_.on_unframeable([this](std::string_view prefix, std::size_t bytes) {
    if (prefix == kRecvPrefix)
      refuse(fmt::format("{} bytes could not be framed with certainty (dropped)", bytes), prefix);
  });
  auto add = [this](const char* prefix, at::UrcRegistry::Handler handler) {
    handlers_.push_back(channel_.urcs().add(prefix, std::move(handler)));
  };
  add("RDY", [this](std::string_view) {
    if (events_.module_booted) events_.module_booted();
  });
  add("+QMTSTAT:", [this](std::string_view line) { on_qmtstat(line); });
  add("+QIURC: \"pdpdeact\"", [this](std::string_view line) {
    if (auto cid = parse_pdp_deactivated(line); cid && *cid == context_id_ && events_.data_lost)
      events_.data_lost();
  });
  add("+QMTRECV:", [this](std::string_view line) { on_qmtrecv(line); });
  add("+QMTPUBEX:", [this](std::string_view line) { on_packet_progress(line); });
  add("+QMTPING:", [this](std::string_view line) {
    if (events_.ping_failed) events_.ping_failed(line);
  });
}

QuectelLink::~QuectelLink() {
  for (auto id : handlers_)
    channel_.urcs().remove(id);
  channel_.remove_line_reader(std::string(kRecvPrefix));
  channel_.on_unframeable(nullptr);
}

void QuectelLink::on_qmtstat(std::string_view line) {
  const auto status = parse_qmtstat(line);
  if (!status || status->client != client_ || !events_.session_closed) return;
  events_.session_closed(closed(variant_, status->code));
}

void QuectelLink::refuse(std::string_view why, std::string_view line) {
  if (events_.message_refused) events_.message_refused(why, line);
}

void QuectelLink::on_qmtrecv(std::string_view line) {
  const auto parsed = parse_qmtrecv(line, framing_);
  if (!parsed) return refuse("the module's line is unreadable", line);
  if (const auto* message = std::get_if<ReceivedMessage>(&*parsed)) {
    if (message->client != client_) return;
    if (const auto why = check_received_topic(message->topic)) return refuse(*why, line);
    if (!message->with_length && framing_ == RecvFraming::kWithLength &&
        message->topic.find('"') == std::string::npos) {
      // Only firmware that ignores <msg_len_enable> writes this (a topic without quotes leaves
      // the length field nowhere to hide): from now on no line is read by a length field, or a
      // topic holding one could be taken for it (README, "Messages from upstream cannot forge
      // module lines").
      framing_ = RecvFraming::kWithoutLength;
      if (events_.firmware_note) {
        events_.firmware_note(
            "the module writes received messages without their length although AT+QMTCFG=\"recv/mode\" asked "
            "for "
            "it: reading them without one from now on");
      }
    }
    if (events_.message)
      events_.message(session::InboundMessage{message->topic, message->payload, message->msgid});
  } else if (const auto* ambiguous = std::get_if<AmbiguousMessage>(&*parsed)) {
    if (ambiguous->client != client_) return;
    refuse(fmt::format("{} different topic/payload splits fit it (its topic or payload holds what reads as a "
                       "length field)",
                       ambiguous->readings),
           line);
  } else if (const auto* buffered = std::get_if<BufferedMessage>(&*parsed)) {
    if (buffered->client != client_ || buffered->recv_id >= kReceiveSlots) return;
    if (events_.message_waiting) events_.message_waiting(buffered->recv_id);
  }
}

void QuectelLink::take_read_answer(const at::Result& result) {
  // The messages come back as the read's answer (a notice for the emptied slot may be among the
  // lines: it announces the slot again).
  for (const auto& line : result.lines)
    on_qmtrecv(line);
}

void QuectelLink::on_packet_progress(std::string_view line) {
  const auto result = parse_packet_result(line);
  if (!result || result->client != client_) return;
  if (result->result == 1) {
    if (events_.publish_retransmitted) {
      events_.publish_retransmitted(
          result->msgid, result->values.empty() ? std::nullopt : std::optional<int>(result->values.front()));
    }
    return;
  }
  // An outcome nobody waits for (the channel routes the awaited ones to their publish).
  if (events_.unexpected_publish_result) events_.unexpected_publish_result(result->msgid);
}

}  // namespace modem::quectel
