#include "modem/log.hpp"

#include <fmt/format.h>

namespace modem {

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
  if (auto existing = spdlog::get(name)) return existing;
  auto fallback = spdlog::default_logger();
  auto created = std::make_shared<spdlog::logger>(name, fallback->sinks().begin(), fallback->sinks().end());
  created->set_level(fallback->level());
  // Two threads never race here (the daemon has one), but register_logger throws if the name was
  // taken in between, so look again rather than trust the first answer.
  if (auto raced = spdlog::get(name)) return raced;
  spdlog::register_logger(created);
  return created;
}

std::string printable(std::string_view bytes, std::size_t max_bytes) {
  std::string out;
  const std::size_t shown = std::min(bytes.size(), max_bytes);
  out.reserve(shown + 16);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    switch (c) {
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          out += fmt::format("\\x{:02x}", c);
        }
    }
  }
  if (shown < bytes.size()) out += fmt::format("...({} bytes)", bytes.size());
  return out;
}

}  // namespace modem
