// The files [upstream.tls] names: where they are (a path, or a systemd credential), reading them,
// who else may read the key, and the checks of tls_files.hpp. config.cpp reads the keys of the
// table and points each problem found here at the key it is about.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config.hpp"
#include "tls_files.hpp"

namespace cellmqttd {

// Which [upstream.tls] key a problem is about; kTable: the table as a whole.
enum class TlsKey { kTable, kCaFile, kCertFile, kKeyFile };

struct TlsProblem {
  TlsKey key = TlsKey::kTable;
  std::string message;
  bool warning = false;  // reported, but the configuration is still usable
};

// The prefix of a path that names a systemd credential: "credential:<name>" is read from
// $CREDENTIALS_DIRECTORY/<name>, which systemd fills from LoadCredential=<name>:<path> in the
// unit. The key can then stay root-only on disk, whatever user the service runs as.
inline constexpr std::string_view kCredentialPrefix = "credential:";

// Reads and checks the files `tls` names (`tls.enabled` is assumed; which files must be given
// is config.cpp's to decide): relative paths are taken from `base_dir`. Fills tls.ca_pem,
// cert_pem, key_pem and window from what passes. `max_file`: the module's limit for one file
// (modem::session::max_tls_file); `now`: the host's clock. Every problem found, at most one per
// file.
std::vector<TlsProblem> load_tls_files(UpstreamTlsConfig& tls, const std::filesystem::path& base_dir,
                                       std::size_t max_file, tls::Time now);

}  // namespace cellmqttd
