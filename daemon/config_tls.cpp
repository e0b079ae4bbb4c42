#include "config_tls.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <utility>

#include "file_text.hpp"

namespace cellmqttd {
namespace {

// Far above any PEM file a module takes (64 KiB on the Quectel families): only keeps a wrong
// path (/dev/zero, a log file) from being read forever. The module's own limit is checked after
// the line endings are normalised, with a message about what to keep.
constexpr std::size_t kMaxReadBytes = 1024 * 1024;

enum class Kind { kCaBundle, kCertificate, kKey };

struct Where {
  std::optional<std::string> path;  // nullopt: the problem is in `error`
  std::string error;
};

// Where `value` (ca_file, cert_file or key_file as written) is on disk.
Where locate(const std::string& value, const std::filesystem::path& base_dir) {
  if (value.starts_with(kCredentialPrefix)) {
    const std::string name = value.substr(kCredentialPrefix.size());
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
      return {std::nullopt,
              fmt::format("\"{}\" must be \"credential:\" and the name of a systemd credential, without '/' "
                          "(LoadCredential=<name>:<path> in the unit)",
                          value)};
    }
    const char* directory = std::getenv("CREDENTIALS_DIRECTORY");
    if (directory == nullptr || *directory == '\0') {
      return {
          std::nullopt,
          fmt::format("names the systemd credential \"{}\", but CREDENTIALS_DIRECTORY is not set: cellmqttd "
                      "was not started by systemd with LoadCredential={}:... (to check the file by hand: "
                      "sudo systemd-run --pipe --wait -p LoadCredential={}:<path> cellmqttd --check-config)",
                      name, name, name)};
    }
    return {(std::filesystem::path(directory) / name).string(), {}};
  }
  const std::filesystem::path p(value);
  if (p.is_absolute()) return {value, {}};
  return {(base_dir / p).lexically_normal().string(), {}};
}

std::string read_failure(const std::string& path, const FileText& content, Kind kind, bool credential) {
  std::string message = fmt::format("cannot read {}: {}", path, content.error);
  if (credential && content.err == ENOENT) {
    message += " (does the unit have LoadCredential= for it?)";
  } else if ((content.err == EACCES || content.err == EPERM) && kind == Kind::kKey) {
    message += fmt::format(
        " (the packaged service runs as user {}: let it read the key through its group, sudo chgrp {} {} && "
        "sudo chmod 640 {}, or keep it root-only and give it with LoadCredential=)",
        kServiceUser, kServiceUser, path, path);
  } else if (content.err == EACCES || content.err == EPERM) {
    message +=
        fmt::format(" (the packaged service runs as user {}, which must be able to read it)", kServiceUser);
  }
  return message;
}

// As ssh refuses a private key that others can read. Unlike a password file (0600), the group
// may read it: root:cellmqttd 0640 is how the packaged service reads a key root owns.
std::optional<std::string> key_mode_problem(const std::string& path, mode_t mode) {
  if ((mode & 0007) == 0) return std::nullopt;
  return fmt::format(
      "{} has mode {:04o}, so every user of this machine can get at the private key; a key must not be "
      "readable by others (as ssh requires): chmod o-rwx {} (or chmod 640 {} with group {}, for the packaged "
      "service)",
      path, mode, path, path, kServiceUser);
}

// One file, read and checked; nullopt (and a problem in `problems`) when it cannot be used.
std::optional<tls::PemFile> load_one(const std::string& value, Kind kind, TlsKey key,
                                     const std::filesystem::path& base_dir, std::size_t max_file,
                                     std::vector<TlsProblem>& problems) {
  const auto fail = [&](std::string message) {
    problems.push_back({key, std::move(message)});
    return std::nullopt;
  };
  const Where where = locate(value, base_dir);
  if (!where.path) return fail(where.error);
  const std::string& path = *where.path;
  const FileText content = read_text_file(path, kMaxReadBytes);
  if (!content.text) return fail(read_failure(path, content, kind, value.starts_with(kCredentialPrefix)));
  if (kind == Kind::kKey) {
    if (auto problem = key_mode_problem(path, content.mode)) return fail(std::move(*problem));
  }
  auto checked = kind == Kind::kCaBundle      ? tls::check_ca_bundle(path, *content.text, max_file)
                 : kind == Kind::kCertificate ? tls::check_certificate(path, *content.text, max_file)
                                              : tls::check_private_key(path, *content.text, max_file);
  if (!checked) return fail(checked.error().message);
  return std::move(checked).value();
}

}  // namespace

std::vector<TlsProblem> load_tls_files(UpstreamTlsConfig& tls, const std::filesystem::path& base_dir,
                                       std::size_t max_file, tls::Time now) {
  std::vector<TlsProblem> problems;
  std::optional<tls::PemFile> ca;
  std::optional<tls::PemFile> cert;
  std::optional<tls::PemFile> key;
  if (!tls.ca_file.empty())
    ca = load_one(tls.ca_file, Kind::kCaBundle, TlsKey::kCaFile, base_dir, max_file, problems);
  if (!tls.cert_file.empty())
    cert = load_one(tls.cert_file, Kind::kCertificate, TlsKey::kCertFile, base_dir, max_file, problems);
  if (!tls.key_file.empty())
    key = load_one(tls.key_file, Kind::kKey, TlsKey::kKeyFile, base_dir, max_file, problems);

  if (cert && key) {
    if (auto mismatch = tls::check_key_matches(*cert, *key)) {
      problems.push_back({TlsKey::kKeyFile, std::move(*mismatch)});
      key.reset();
    }
  }

  // The dates against the host's clock, unless that clock cannot be right; either way the
  // session checks them against the module's clock before it connects.
  if (tls::clock_is_unset(now)) {
    if (ca || cert) {
      problems.push_back(
          {TlsKey::kTable,
           fmt::format(
               "the host clock says {}, which cannot be right (no battery-backed clock, and no time from "
               "NTP yet?): the certificates' dates were not checked here",
               tls::format_utc(
                   std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count())),
           true});
    }
  } else {
    for (auto [file, file_key] : {std::pair{&ca, TlsKey::kCaFile}, std::pair{&cert, TlsKey::kCertFile}}) {
      if (!*file) continue;
      if (auto problem = tls::check_dates(**file, now)) {
        problems.push_back({file_key, std::move(*problem)});
        file->reset();
      }
    }
  }

  std::vector<const tls::PemFile*> dated;
  if (ca) {
    tls.ca_pem = ca->pem;
    dated.push_back(&*ca);
  }
  if (cert) {
    tls.cert_pem = cert->pem;
    dated.push_back(&*cert);
  }
  if (key) tls.key_pem = std::move(key->pem);
  tls.window = tls::validity_window(dated);
  return problems;
}

}  // namespace cellmqttd
