#include "modem/session/session_config.hpp"

#include <utility>

namespace modem::session {

std::string expand_client_id(const std::string& client_id, const std::string& imei,
                             const std::string& iccid) {
  std::string id = client_id;
  for (const auto& [key, value] :
       {std::pair<std::string, const std::string&>{"{imei}", imei}, {"{iccid}", iccid}}) {
    for (auto at = id.find(key); at != std::string::npos; at = id.find(key, at + value.size()))
      id.replace(at, key.size(), value);
  }
  return id;
}

}  // namespace modem::session
