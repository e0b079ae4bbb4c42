#include "modem/quectel/quectel_variants.hpp"

#include "modem/quectel/quectel_at.hpp"

namespace modem::quectel {

namespace {

// seeds/002 §4.3 table (OCR: "8 ... 客户端主动断开"), and field-notes.md 2.3 (EG800AK notes:
// "8 = client-initiated disconnect"); reserved in seeds/001 (its table ends at 7, "8-255 reserved").
constexpr const char* kQmtstat8 =
    "the client closed the connection (seeds/002; seen after a burst of QoS 1 publishes, field-notes.md "
    "2.2); reopen";

const std::vector<Variant>& table() {
  static const std::vector<Variant> rows = {
      {
          .name = "quectel-ec200u",
          .family = "Quectel EC200U",
          // The EC200U is of the seeds/002 family; cellmqttd drives it as it has since the field guide
          // (seeds/000): these rows are what runs on EC200Us today.
          .document = "seeds/002, seeds/000 and field-notes.md",
          .models = {"EC200U", "EC600U"},
          .max_context_id = 15,     // seeds/002 §3.3.1 <cid> "1~15"
          .max_payload = 1500,      // seeds/002 §3.3.9 AT+QMTPUBEX, 1500 bytes
          .max_will_topic = 256,    // seeds/002 §3.3.1 <willtopic> 1~256
          .max_will_message = 256,  // seeds/002 §3.3.1 <willmessage> 0~256
          .password_with_username = false,
          .sets_data_format = false,
          .qmtstat_8 = kQmtstat8,
      },
      {
          .name = "quectel-ec2x",
          .family = "Quectel EC2x/EG9x/EM05",
          .document = "seeds/001",
          .models = {"EC25", "EC21", "EC20", "EG25", "EG21", "EG91", "EG95", "EM05"},
          .max_context_id = 16,  // seeds/001 AT+QMTCFG="pdpcid": (1-16)
          .max_payload = 1500,   // seeds/001 AT+QMTPUBEX note 2: 1500 bytes at a time
          // seeds/001 gives no limit for the will; the same bound as the topics cellmqttd sends.
          .max_will_topic = kMaxTopic,
          .max_will_message = kMaxTopic,
          .password_with_username = false,  // seeds/001 AT+QMTCONN: [,"<username>"[,"<password>"]]
          .sets_data_format = false,        // seeds/001 has no "dataformat" or "view/mode"
          .qmtstat_8 = nullptr,             // seeds/001 Table 3: reserved
      },
      {
          .name = "quectel-ec200x",
          .family = "Quectel EC200x/EC600x/EG912Y",
          .document = "seeds/002",
          .models = {"EC200S", "EC200T", "EC200A", "EC200N", "EC200G", "EC600S", "EC600N", "EC600M", "EC600E",
                     "EG912Y"},
          .max_context_id = 15,  // seeds/002 §3.3.1 <cid> "1~15"
          .max_payload = 1500,   // seeds/002 §3.3.9, 1500 bytes
          .max_will_topic = 256,
          .max_will_message = 256,
          // seeds/002 §3.3.4 AT+QMTCONN: [,<username>,<password>], the two as a pair.
          .password_with_username = true,
          // seeds/002 §3.3.1 "dataformat" (text or hex each way) and "view/mode" (whether the
          // payload after ">" is echoed): their defaults cannot be read in the document, and hex
          // or an echo would change the bytes on the wire, so they are set.
          .sets_data_format = true,
          .qmtstat_8 = kQmtstat8,
      },
  };
  return rows;
}

}  // namespace

std::span<const Variant> variants() {
  return table();
}

const Variant* variant_named(std::string_view name) {
  for (const Variant& v : table()) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

const Variant* variant_for_model(std::string_view ati_model) {
  // The longest name that starts the model wins: "EC200S" is an EC200x, not an "EC20".
  const Variant* best = nullptr;
  std::size_t best_length = 0;
  for (const Variant& v : table()) {
    for (const std::string_view model : v.models) {
      if (ati_model.starts_with(model) && model.size() > best_length) {
        best = &v;
        best_length = model.size();
      }
    }
  }
  return best;
}

const char* describe_qmtstat(const Variant& variant, int code) {
  if (code == 8 && variant.qmtstat_8 != nullptr) return variant.qmtstat_8;
  return describe_qmtstat(code);
}

}  // namespace modem::quectel
