#include "file_text.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace cellmqttd {

FileText read_text_file(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {std::nullopt, std::system_category().message(errno), errno};
  // The mode of what was opened, not of what the path names a moment later.
  struct stat st {};
  const mode_t mode = ::fstat(fd, &st) == 0 ? st.st_mode & 07777 : 0;
  std::string text;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;  // a directory opens but fails here with EISDIR
      ::close(fd);
      return {std::nullopt, std::system_category().message(err), err};
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > max_bytes) {
      ::close(fd);
      return {std::nullopt, fmt::format("it is larger than {} bytes; is it the right file?", max_bytes)};
    }
  }
  ::close(fd);
  return {std::move(text), {}, 0, mode};
}

}  // namespace cellmqttd
