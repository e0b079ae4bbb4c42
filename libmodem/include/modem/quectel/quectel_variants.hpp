// The Quectel families that share the QMT command set, as rows of one table: what each document
// gives for it where the families differ. The commands and parsers are the same for all
// (quectel_at.hpp); a variant only says which options, limits and meanings apply.
//
// Sources, cited per field in quectel_variants.cpp:
//   seeds/001  Quectel EC2x & EG9x & EM05 MQTT Application Note
//   seeds/002  Quectel EC200x & EC600x & EG912Y MQTT Application Note (the EC200U is of this family)
//   seeds/000  the EC200U-CN field guide; field-notes.md for what modules did on the wire
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace modem::quectel {

struct Variant {
  std::string_view name;      // the [modem] model value: "quectel-ec200u"
  std::string_view family;    // for people: "Quectel EC200U"
  std::string_view document;  // where its rows come from
  // ATI's model line (second line) of the modules it drives, matched as a prefix.
  std::vector<std::string_view> models;
  int max_context_id = 16;         // AT+QMTCFG="pdpcid" <cid> (and AT+QICSGP <contextID>)
  std::size_t max_payload = 1500;  // AT+QMTPUBEX <msg_length>
  std::size_t max_will_topic = 256;
  std::size_t max_will_message = 256;
  // AT+QMTCONN takes the user name and the password as a pair: a user name alone goes out with an
  // empty password.
  bool password_with_username = false;
  // AT+QMTCFG="dataformat" and "view/mode" exist: they are set to text both ways and no echo of
  // the payload, whatever the firmware's default.
  bool sets_data_format = false;
  // +QMTSTAT code 8: documented (this meaning) or reserved (nullptr).
  const char* qmtstat_8 = nullptr;
};

std::span<const Variant> variants();
// The variant named `name` ("quectel-ec2x"), or nullptr.
const Variant* variant_named(std::string_view name);
// The variant whose modules report `ati_model` in ATI ("EC25", "EC200U"), or nullptr.
const Variant* variant_for_model(std::string_view ati_model);
// The meaning of +QMTSTAT `code` on `variant`'s modules.
const char* describe_qmtstat(const Variant& variant, int code);

}  // namespace modem::quectel
