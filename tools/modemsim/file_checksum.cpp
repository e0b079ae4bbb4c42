#include "file_checksum.hpp"

#include <fmt/format.h>

namespace modemsim {

std::uint16_t qfupl_checksum(std::string_view data) {
  std::uint16_t sum = 0;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    const auto high = static_cast<std::uint16_t>(static_cast<unsigned char>(data[i]) << 8);
    const auto low = i + 1 < data.size() ? static_cast<unsigned char>(data[i + 1]) : 0;
    sum = static_cast<std::uint16_t>(sum ^ (high | low));
  }
  return sum;
}

std::string qfupl_checksum_text(std::uint16_t checksum) {
  return fmt::format("{:x}", checksum);
}

}  // namespace modemsim
