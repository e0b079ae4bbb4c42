// Reading a small file the configuration names (the configuration itself, a password file, a
// certificate or key) whole, with the mode of what was read, so that the checks on it (who else
// may read a secret) are about the file the daemon uses and not about what the path names a
// moment later.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cellmqttd {

// The packaged service's user (packaging/debian/cellmqttd.sysusers), named in the fixes the
// messages about such files suggest.
inline constexpr std::string_view kServiceUser = "cellmqttd";

struct FileText {
  std::optional<std::string> text;
  std::string error;  // why it could not be read, when text is nullopt
  int err = 0;        // its errno, when there is one
  mode_t mode = 0;    // the permission bits of the file that was read
};

// The whole file, or why not; more than `max_bytes` is refused (a wrong path such as /dev/zero
// or a log file is not read forever).
FileText read_text_file(const std::string& path, std::size_t max_bytes);

}  // namespace cellmqttd
