// The Quectel modules modemsim plays, as rows of one table. The families share the QMT command set;
// where their MQTT application notes differ, a row says what its own document gives, and the
// QuectelPersonality reads the row instead of knowing any model. Each field is cited in
// quectel_models.cpp:
//   seeds/001  Quectel EC2x & EG9x & EM05 MQTT Application Note (its plain text lost the section
//              numbers: cited by command heading, e.g. "001 AT+QMTCFG")
//   seeds/002  Quectel EC200x & EC600x & EG912Y MQTT Application Note (Chinese, OCR; its own
//              numbers, e.g. "002 §3.3.1")
//   seeds/000 and field-notes.md  what the EC200U did in the field
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace modemsim {

// How a command with a bad argument is refused.
enum class ErrorForm {
  kError,     // a bare ERROR
  kCmeError,  // +CME ERROR: 50, "incorrect parameters" (a bare ERROR under AT+CMEE=0)
};

struct QuectelModel {
  std::string_view name;      // the --model value
  std::string_view document;  // where the row's answers come from: "seeds/001"

  // Identity: AT+CGMI, AT+CGMM, AT+CGMR, and ATI's three lines.
  std::string_view manufacturer;
  std::string_view model;
  std::string_view revision;

  // AT+QMTCFG
  std::vector<std::string_view> qmtcfg_test;     // the answer to AT+QMTCFG=?, line by line
  std::vector<std::string_view> qmtcfg_options;  // the options a write or a query accepts
  int max_pdp_cid = 16;                          // "pdpcid" <cid> is 1..max_pdp_cid
  // "timeout": <pkt_timeout>,<retry_times>,<timeout_notice> all three or none (else each trailing
  // one may be left out).
  bool timeout_all_or_none = false;
  std::optional<std::size_t> max_will_topic;  // "will" and "willex" limits in bytes, where documented
  std::optional<std::size_t> max_will_message;
  // "willex", "send/mode", "dataformat" and "view/mode" do on the wire what seeds/002 says they do.
  // False: they are accepted and change nothing, as modemsim's EC200U has always answered them.
  bool data_options_act = false;

  // AT+QMTCONN=<idx>,"<clientID>"[,"<username>",...]: the user name and the password together or
  // neither (else the password may be left out).
  bool credentials_in_pairs = false;
  // AT+QMTPUB in the forms the field notes report (2.2: inline and Ctrl-Z; 1.1: with a length).
  bool qmtpub = false;
  // The highest +QMTSTAT <err_code> the document defines (1..it); nullopt: any code can be played.
  std::optional<int> max_qmtstat_code;

  // How a bad option name or value of AT+QMTCFG is refused, and a bad argument of any other QMT
  // command (a client index out of range included).
  ErrorForm bad_option = ErrorForm::kError;
  ErrorForm bad_argument = ErrorForm::kError;
};

std::span<const QuectelModel> quectel_models();
// The row whose name is `name` ("ec2x"), or nullptr.
const QuectelModel* find_quectel_model(std::string_view name);

}  // namespace modemsim
