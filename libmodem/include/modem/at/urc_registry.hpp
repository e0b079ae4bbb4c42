// Unsolicited result codes by prefix ("+QMTSTAT:", "RDY", "+QIURC: \"pdpdeact\""). The longest
// registered prefix that starts a line wins, so a specific handler can sit beside a general one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace modem::at {

class UrcRegistry {
 public:
  using Handler = std::function<void(std::string_view line)>;
  using HandlerId = std::uint64_t;

  HandlerId add(std::string prefix, Handler handler);
  void remove(HandlerId id);

  // True if a handler claims the line.
  bool matches(std::string_view line) const { return find(line) != nullptr; }
  // Calls the matching handler; false when none matches.
  bool dispatch(std::string_view line) const;

 private:
  struct Entry {
    HandlerId id;
    std::string prefix;
    Handler handler;
  };
  const Entry* find(std::string_view line) const;

  std::vector<Entry> entries_;
  HandlerId next_id_ = 1;
};

}  // namespace modem::at
