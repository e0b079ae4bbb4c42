// The module's file system as AT+QFUPL, AT+QFLST and AT+QFDEL see it: files on "UFS" (flash,
// kept across a reboot) and "RAM" (lost at a reboot), named "UFS:<name>", "RAM:<name>", or
// "<name>" for UFS (Quectel's FILE AT commands manual; field-notes.md 3.1, 3.2). Names are
// case-sensitive. The SSL contexts name their certificates and keys by these names.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace modemsim {

class FileStore {
 public:
  enum class Drive { kUfs, kRam };
  struct Path {
    Drive drive = Drive::kUfs;
    std::string name;          // without the drive prefix
    std::string text() const;  // "UFS:<name>"
  };
  struct Entry {
    std::string path;  // "UFS:<name>"
    std::size_t size;
  };

  // "UFS:a", "RAM:a" or "a" (on UFS); nullopt when nothing is left after the prefix.
  static std::optional<Path> parse(std::string_view name);
  // Whether a name holds a shell pattern ("*", "cellmqtt-*.pem") rather than naming one file.
  static bool is_pattern(std::string_view name);

  bool exists(const Path& path) const;
  // The contents of the file a name names, or nullptr.
  const std::string* find(std::string_view name) const;
  void put(const Path& path, std::string data);
  bool remove(const Path& path);
  // The files of `pattern`'s drive whose names match it (fnmatch), sorted by name.
  std::vector<Entry> list(const Path& pattern) const;
  // Deletes the files list(pattern) gives; returns how many.
  std::size_t remove_matching(const Path& pattern);
  // Power loss: RAM forgets everything, UFS keeps it.
  void power_cycle();

 private:
  std::map<std::string, std::string>& drive(Drive d) { return d == Drive::kUfs ? ufs_ : ram_; }
  const std::map<std::string, std::string>& drive(Drive d) const { return d == Drive::kUfs ? ufs_ : ram_; }

  std::map<std::string, std::string> ufs_;  // name without prefix -> contents
  std::map<std::string, std::string> ram_;
};

}  // namespace modemsim
