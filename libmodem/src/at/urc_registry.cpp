#include "modem/at/urc_registry.hpp"

#include <algorithm>

namespace modem::at {

UrcRegistry::HandlerId UrcRegistry::add(std::string prefix, Handler handler) {
  const HandlerId id = next_id_++;
  entries_.push_back(Entry{id, std::move(prefix), std::move(handler)});
  return id;
}

void UrcRegistry::remove(HandlerId id) {
  std::erase_if(entries_, [id](const Entry& e) { return e.id == id; });
}

const UrcRegistry::Entry* UrcRegistry::find(std::string_view line) const {
  const Entry* best = nullptr;
  for (const Entry& entry : entries_) {
    if (line.starts_with(entry.prefix) && (best == nullptr || entry.prefix.size() > best->prefix.size())) {
      best = &entry;
    }
  }
  return best;
}

bool UrcRegistry::dispatch(std::string_view line) const {
  const Entry* entry = find(line);
  if (entry == nullptr) return false;
  // Copy: the handler may add or remove registrations.
  const Handler handler = entry->handler;
  handler(line);
  return true;
}

}  // namespace modem::at
