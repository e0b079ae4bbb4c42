// The checksum AT+QFUPL reports after an upload (+QFUPL: <size>,<checksum>): the XOR of the data
// taken as 16-bit big-endian words, an odd last byte being the high byte of a word whose low byte
// is 0 (Quectel's FILE AT commands manual, AT+QFUPL <checksum>). A host compares it with its own
// to know the module stored exactly what it sent (field-notes.md 3.3: truncated uploads).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace modemsim {

std::uint16_t qfupl_checksum(std::string_view data);
// As the module prints it: lowercase hex without leading zeros ("384a", "0" for no data).
std::string qfupl_checksum_text(std::uint16_t checksum);

}  // namespace modemsim
