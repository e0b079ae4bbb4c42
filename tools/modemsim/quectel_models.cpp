#include "quectel_models.hpp"

namespace modemsim {

namespace {

const std::vector<QuectelModel>& table() {
  static const std::vector<QuectelModel> rows = {
      {
          // What modemsim has always played, unchanged: the seeds/002 family as the field guide
          // (seeds/000) and the field notes saw it, with the EC2x note's ranges where the two agree
          // or 002 cannot be read. Every host-side test so far was written against this row.
          .name = "ec200u",
          .document = "seeds/002, seeds/000 and field-notes.md",
          .manufacturer = "Quectel",
          .model = "EC200U",
          .revision = "EC200UCNAAR02A05M08",
          .qmtcfg_test =
              {
                  R"(+QMTCFG: "version",(0-5),(3,4))",
                  R"(+QMTCFG: "pdpcid",(0-5),(1-16))",
                  R"(+QMTCFG: "ssl",(0-5),(0,1),(0-5))",
                  R"(+QMTCFG: "keepalive",(0-5),(0-3600))",
                  R"(+QMTCFG: "session",(0-5),(0,1))",
                  R"(+QMTCFG: "timeout",(0-5),(1-60),(0-10),(0,1))",
                  R"(+QMTCFG: "will",(0-5),(0,1),(0-2),(0,1),"willtopic","willmessage")",
                  R"(+QMTCFG: "recv/mode",(0-5),(0,1),(0,1))",
                  R"(+QMTCFG: "qmtping",(0-5),(5-60))",
              },
          .qmtcfg_options = {"version", "pdpcid", "ssl", "keepalive", "session", "timeout", "will",
                             "recv/mode", "qmtping",
                             // seeds/002 options, accepted with no effect (data_options_act false)
                             "willex", "send/mode", "dataformat", "view/mode", "edit/timeout", "aliauth",
                             "onenet", "hwauth"},
          .max_pdp_cid = 16,
          .timeout_all_or_none = false,
          .max_will_topic = std::nullopt,
          .max_will_message = std::nullopt,
          .data_options_act = false,
          .credentials_in_pairs = false,
          .qmtpub = true,
          // Any code: the field reports codes beyond the tables (field-notes.md 2.3), and the
          // session's tests play each of 1-8 on this row.
          .max_qmtstat_code = std::nullopt,
          // +CME ERROR: 50 for a bad QMTCFG value, as the EC600M answers configuration commands
          // (field-notes.md 1.13, 2.8); a bare ERROR elsewhere.
          .bad_option = ErrorForm::kCmeError,
          .bad_argument = ErrorForm::kError,
      },
      {
          // seeds/001: "applicable to EC2x (including EC25, EC21, EC20 R2.0 and EC20 R2.1), EG9x
          // (EG91, EG95), EM05" (its chapter 1). Plays an EC25-E.
          .name = "ec2x",
          .document = "seeds/001",
          .manufacturer = "Quectel",
          .model = "EC25",
          .revision = "EC25EFAR06A06M4G",
          // seeds/001 AT+QMTCFG test command, line for line. Its "timeout" line gives <retry_times>
          // as (1-10) where the parameter table says 0-10; a write takes 0-10.
          .qmtcfg_test =
              {
                  R"(+QMTCFG: "version",(0-5),(3,4))",
                  R"(+QMTCFG: "pdpcid",(0-5),(1-16))",
                  R"(+QMTCFG: "ssl",(0-5),(0,1),(0-5))",
                  R"(+QMTCFG: "keepalive",(0-5),(0-3600))",
                  R"(+QMTCFG: "session",(0-5),(0,1))",
                  R"(+QMTCFG: "timeout",(0-5),(1-60),(1-10),(0,1))",
                  R"(+QMTCFG: "will",(0-5),(0,1),(0-2),(0,1),"willtopic","willmessage")",
                  R"(+QMTCFG: "recv/mode",(0-5),(0,1),(0,1))",
                  R"(+QMTCFG: "aliauth",(0-5),"productkey","devicename","devicesecret")",
                  R"(+QMTCFG: "qmtping",(0-5),(5-60))",
              },
          // seeds/001 AT+QMTCFG: these ten and no others; every option it has, seeds/002 has too.
          .qmtcfg_options = {"version", "pdpcid", "ssl", "keepalive", "session", "timeout", "will",
                             "recv/mode", "aliauth", "qmtping"},
          .max_pdp_cid = 16,               // seeds/001 AT+QMTCFG <cid>: "The range is 1-16"
          .timeout_all_or_none = false,    // seeds/001: [,<pkt_timeout>[,<retry_times>][,<timeout_notice>]]
          .max_will_topic = std::nullopt,  // seeds/001 gives no limit for <will_topic> or <will_msg>
          .max_will_message = std::nullopt,
          .data_options_act = false,      // none of them exists here
          .credentials_in_pairs = false,  // seeds/001 AT+QMTCONN: [,"<username>"[,"<password>"]]
                                          // seeds/001 draws AT+QMTPUB in its Figure 1 but gives it no syntax
                                          // and no section; its one publish command is AT+QMTPUBEX.
          .qmtpub = false,
          // seeds/001 Table 3 "Error Codes of the URC": 1-7, "8-255 Reserved for future use".
          .max_qmtstat_code = 7,
          // seeds/001, every QMT write command: "If there is an error related to ME functionality:
          // +CME ERROR: <err>". State errors stay a bare ERROR as it writes them ("Else the
          // response is: ERROR", the in-flight window, AT+QMTRECV with no connection).
          .bad_option = ErrorForm::kCmeError,
          .bad_argument = ErrorForm::kCmeError,
      },
      {
          // seeds/002's applicability table lists EC200T, EC200S and EC600S-CN (002 §1.1, OCR).
          // Plays an EC200S-CN.
          .name = "ec200x",
          .document = "seeds/002",
          .manufacturer = "Quectel",
          .model = "EC200S",
          .revision = "EC200SCNAAR03A12M08",
          // seeds/002 §3.3.1 test command, in its order. The OCR'd answer names each range in
          // words ("(支持的<cid>范围)"), so the numbers are those of its parameter table.
          .qmtcfg_test =
              {
                  R"(+QMTCFG: "version",(0-5),(3,4))",
                  R"(+QMTCFG: "pdpcid",(0-5),(1-15))",
                  R"(+QMTCFG: "ssl",(0-5),(0,1),(0-5))",
                  R"(+QMTCFG: "keepalive",(0-5),(0-3600))",
                  R"(+QMTCFG: "session",(0-5),(0,1))",
                  R"(+QMTCFG: "timeout",(0-5),(1-60),(0-10),(0,1))",
                  R"(+QMTCFG: "will",(0-5),(0,1),(0-2),(0,1),"willtopic","willmessage")",
                  R"(+QMTCFG: "willex",(0-5),(0,1),(0-2),(0,1),"willtopic",(0-256))",
                  R"(+QMTCFG: "recv/mode",(0-5),(0,1),(0,1))",
                  R"(+QMTCFG: "aliauth",(0-5),"product key","device name","device secret")",
                  R"(+QMTCFG: "qmtping",(0-5),(5-60))",
                  R"(+QMTCFG: "send/mode",(0-5),(0,1))",
                  R"(+QMTCFG: "onenet",(0-5),"product id","access key")",
                  R"(+QMTCFG: "hwauth",(0-5),"product id","device secret")",
                  R"(+QMTCFG: "hwprodid",(0-5),"product id","product secret","nodeid")",
                  R"(+QMTCFG: "dataformat",(0-5),(0,1),(0,1))",
                  R"(+QMTCFG: "view/mode",(0-5),(0,1))",
                  R"(+QMTCFG: "edit/timeout",(0-5),(0,1),(1-120))",
              },
          .qmtcfg_options = {"version", "pdpcid", "ssl", "keepalive", "session", "timeout", "will", "willex",
                             "recv/mode", "aliauth", "qmtping", "send/mode", "onenet", "hwauth", "hwprodid",
                             "dataformat", "view/mode", "edit/timeout"},
          .max_pdp_cid = 15,            // seeds/002 §3.3.1 <cid>: "1~15"
          .timeout_all_or_none = true,  // seeds/002 §3.3.1: [,<pkt_timeout>,<retry_times>,<timeout_notice>]
          .max_will_topic = 256,        // seeds/002 §3.3.1 <willtopic>: 1~256 bytes
          .max_will_message = 256,      // seeds/002 §3.3.1 <willmessage> 0~256, <will_len> 0~256
          .data_options_act = true,
          .credentials_in_pairs =
              true,         // seeds/002 §3.3.4: AT+QMTCONN=<idx>,<clientid>[,<username>,<password>]
          .qmtpub = false,  // seeds/002 has no AT+QMTPUB at all: §3.3.8 AT+QMTPUBEX only
                            // seeds/002 §4.1 Table 4: 1-8 (8: the client closed the MQTT connection), "9~255"
                            // reserved.
          .max_qmtstat_code = 8,
          // seeds/002 writes every error as a bare ERROR ("若出现错误: ERROR"); +CME ERROR appears nowhere.
          .bad_option = ErrorForm::kError,
          .bad_argument = ErrorForm::kError,
      },
  };
  return rows;
}

}  // namespace

std::span<const QuectelModel> quectel_models() {
  return table();
}

const QuectelModel* find_quectel_model(std::string_view name) {
  for (const QuectelModel& m : table()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace modemsim
