#include "file_store.hpp"

#include <fnmatch.h>

namespace modemsim {

namespace {
constexpr std::string_view kUfs = "UFS:";
constexpr std::string_view kRam = "RAM:";
}  // namespace

std::string FileStore::Path::text() const {
  return std::string(drive == Drive::kUfs ? kUfs : kRam) + name;
}

std::optional<FileStore::Path> FileStore::parse(std::string_view name) {
  Path path;
  if (name.starts_with(kUfs)) {
    name.remove_prefix(kUfs.size());
  } else if (name.starts_with(kRam)) {
    path.drive = Drive::kRam;
    name.remove_prefix(kRam.size());
  }
  if (name.empty()) return std::nullopt;
  path.name = std::string(name);
  return path;
}

bool FileStore::is_pattern(std::string_view name) {
  return name.find_first_of("*?[") != std::string_view::npos;
}

bool FileStore::exists(const Path& path) const {
  return drive(path.drive).contains(path.name);
}

const std::string* FileStore::find(std::string_view name) const {
  const auto path = parse(name);
  if (!path) return nullptr;
  const auto& files = drive(path->drive);
  const auto it = files.find(path->name);
  return it == files.end() ? nullptr : &it->second;
}

void FileStore::put(const Path& path, std::string data) {
  drive(path.drive)[path.name] = std::move(data);
}

bool FileStore::remove(const Path& path) {
  return drive(path.drive).erase(path.name) > 0;
}

std::vector<FileStore::Entry> FileStore::list(const Path& pattern) const {
  std::vector<Entry> out;
  for (const auto& [name, data] : drive(pattern.drive)) {
    if (::fnmatch(pattern.name.c_str(), name.c_str(), 0) == 0)
      out.push_back(Entry{Path{pattern.drive, name}.text(), data.size()});
  }
  return out;
}

std::size_t FileStore::remove_matching(const Path& pattern) {
  std::size_t removed = 0;
  auto& files = drive(pattern.drive);
  for (auto it = files.begin(); it != files.end();) {
    if (::fnmatch(pattern.name.c_str(), it->first.c_str(), 0) == 0) {
      it = files.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

void FileStore::power_cycle() {
  ram_.clear();
}

}  // namespace modemsim
