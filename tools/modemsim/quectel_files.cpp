// AT+QFLST, AT+QFUPL and AT+QFDEL: the file commands a host uses to put certificates on the
// module (Quectel's FILE AT commands manual; field-notes.md 3.1-3.3). The error codes:
//   +CME ERROR: 407  AT+QFUPL of a name that exists (field-notes.md 3.3: the module never
//                    overwrites, the host deletes first)
//   +CME ERROR: 421  AT+QFUPL of 0 bytes or more than kMaxUploadBytes (1 MiB, more than any
//                    certificate needs). Our choice: no field report gives the module's answer.
//   +CME ERROR: 409  AT+QFUPL whose bytes did not all come within <timeout>; nothing is stored
//   +CME ERROR: 405  AT+QFDEL of a name that does not exist
// A name that is no name (empty, or a pattern where one file is meant) is a bad argument, in the
// model's form. Like every +CME ERROR, they read as a bare ERROR under AT+CMEE=0.
#include <fmt/format.h>

#include "at_server.hpp"
#include "file_checksum.hpp"
#include "quectel_personality.hpp"

namespace modemsim {

namespace {

constexpr int kCmeFileExists = 407;
constexpr int kCmeUploadTimedOut = 409;
constexpr int kCmeBadUploadSize = 421;
constexpr int kCmeFileNotFound = 405;
constexpr long kDefaultUploadTimeoutS = 5;  // AT+QFUPL <timeout> when left out

// "*" on its own stands for "UFS:*".
std::optional<FileStore::Path> pattern_arg(const AtCommandLine& command) {
  if (command.form == AtCommandLine::Form::kExec) return FileStore::parse("*");
  if (command.form != AtCommandLine::Form::kWrite || command.count() != 1 || !command.quoted(0))
    return std::nullopt;
  return FileStore::parse(*command.string(0));
}

}  // namespace

void QuectelPersonality::qflst(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  // +QFLST: "<drive>:<name>",<size> for each file that matches, then OK (none: just OK).
  const auto pattern = pattern_arg(command);
  if (!pattern) return bad_argument(reply);
  for (const FileStore::Entry& entry : files_.list(*pattern))
    reply->line(fmt::format("+QFLST: \"{}\",{}", entry.path, entry.size));
  reply->ok();
}

void QuectelPersonality::qfupl(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  // AT+QFUPL="<name>",<size>[,<timeout>[,<ackmode>]] -> CONNECT, <size> raw bytes,
  // +QFUPL: <size>,<checksum>, OK.
  const auto path = command.quoted(0) ? FileStore::parse(*command.string(0)) : std::nullopt;
  const auto size = command.integer(1);
  const auto timeout = command.count() > 2 ? command.integer(2) : kDefaultUploadTimeoutS;
  const auto ack_mode = command.count() > 3 ? command.integer(3) : 0;
  if (command.form != AtCommandLine::Form::kWrite || command.count() < 2 || command.count() > 4 || !path ||
      FileStore::is_pattern(path->name) || !size || !timeout || *timeout < 1 || *timeout > 65535 ||
      !(ack_mode == 0 || ack_mode == 1)) {
    return bad_argument(reply);
  }
  if (files_.exists(*path)) return reply->cme_error(kCmeFileExists);
  if (*size <= 0 || *size > static_cast<long>(kMaxUploadBytes)) return reply->cme_error(kCmeBadUploadSize);
  Reply::Upload upload;
  upload.length = static_cast<std::size_t>(*size);
  upload.timeout = std::chrono::seconds(*timeout);
  // ACK mode: "A" after each 1 KB, so a slow host paces itself (field-notes.md 3.3, forum 57329).
  upload.ack_every = *ack_mode == 1 ? 1024 : 0;
  upload.on_data = [this, reply, path = *path](std::string data) {
    const std::string checksum = qfupl_checksum_text(qfupl_checksum(data));
    const std::size_t bytes = data.size();
    files_.put(path, std::move(data));
    ++service_figures_.files_uploaded;
    reply->line(fmt::format("+QFUPL: {},{}", bytes, checksum));
    reply->ok();
  };
  upload.on_timeout = [reply] { reply->cme_error(kCmeUploadTimedOut); };
  reply->upload(std::move(upload));
}

void QuectelPersonality::qfdel(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  // AT+QFDEL="<name>" deletes one file; a pattern ("*", "UFS:*", "RAM:*.pem") every file it
  // matches, none included.
  const auto path = command.form == AtCommandLine::Form::kWrite ? pattern_arg(command) : std::nullopt;
  if (!path) return bad_argument(reply);
  if (FileStore::is_pattern(path->name)) {
    files_.remove_matching(*path);
  } else if (!files_.remove(*path)) {
    return reply->cme_error(kCmeFileNotFound);
  }
  ++service_figures_.files_deleted;
  reply->ok();
}

}  // namespace modemsim
