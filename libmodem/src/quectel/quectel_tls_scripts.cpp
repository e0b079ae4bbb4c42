// The Quectel dialect's securing stage (TLS): the module's clock, the certificate files and the SSL
// context, as one script whose later steps depend on what the module answers (Step::then).
//
//  - Files are named after their contents ("UFS:cellmqtt-ca-<hash>.pem"), so a file already on
//    the module under that name with that size is the same file: an unchanged file is never
//    written again (flash wear), a changed one gets a new name and the old one is deleted. Nothing
//    needs to be remembered on the host. UFS keeps them through a module reset, RAM would not.
//  - The module never renews a file by itself, and +CME ERROR: 407 means the name is taken
//    (field-notes.md 3.3): the file is deleted and uploaded again.
//  - The SSL context is set at every bring-up: some modules forget it when they re-attach
//    (field-notes.md 3.4), and the settings cost serial bytes only, never cellular data.
//  - The clock is needed only when the server's certificate is checked: `ignorelocaltime` is set
//    only with verify = "none".
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "modem/gpp/gpp_clock.hpp"
#include "modem/quectel/quectel_dialect.hpp"
#include "modem/quectel/quectel_tls.hpp"
#include "modem/session/steps.hpp"

namespace modem::quectel {

namespace {

using session::failed;
using session::Failure;
using session::failure;
using session::first_line;
using session::ModuleInfo;
using session::Rung;
using session::Script;
using session::SessionConfig;
using session::Step;
using session::TlsSettings;
using Kind = Failure::Kind;

constexpr std::string_view kFilePrefix = "UFS:";
constexpr std::string_view kOurFiles = "cellmqtt-";

// The SSL context the MQTT client uses: one per client, with the client's index.
int ssl_context(const SessionConfig& c) {
  return c.client_index;
}

// 64-bit FNV-1a of the contents: a name, not a security measure (the module is trusted with the
// file anyway); 16 hex digits make a collision between two versions of one file negligible.
std::string content_name(std::string_view role, std::string_view contents) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char byte : contents) {
    hash ^= byte;
    hash *= 0x100000001b3ull;
  }
  return fmt::format("{}{}{}-{:016x}.pem", kFilePrefix, kOurFiles, role, hash);
}

// Firmware lists UFS files with or without the "UFS:" prefix.
std::string_view bare_name(std::string_view name) {
  if (name.starts_with(kFilePrefix)) name.remove_prefix(kFilePrefix.size());
  return name;
}

struct TlsFile {
  std::string what;  // "CA bundle", for messages
  std::string name;  // "UFS:cellmqtt-ca-<hash>.pem"
  std::string contents;
  bool secret = false;
};

std::vector<TlsFile> files_of(const TlsSettings& tls) {
  std::vector<TlsFile> files;
  if (tls.verify_peer && !tls.ca_pem.empty())
    files.push_back({"CA bundle", content_name("ca", tls.ca_pem), tls.ca_pem});
  if (!tls.cert_pem.empty()) {
    files.push_back({"client certificate", content_name("cert", tls.cert_pem), tls.cert_pem});
    files.push_back({"client key", content_name("key", tls.key_pem), tls.key_pem, true});
  }
  return files;
}

void forget_suspect(ModuleInfo& info, const std::string& name) {
  auto& suspects = info.tls->suspect_files;
  suspects.erase(std::remove(suspects.begin(), suspects.end(), name), suspects.end());
}

Step delete_step(const std::string& name) {
  return {delete_file(name), [](const at::Result&, ModuleInfo&) -> std::optional<Failure> {
            return std::nullopt;  // gone already (405) is as good as deleted
          }};
}

Step upload_step(const TlsFile& file, bool may_replace) {
  auto taken = std::make_shared<bool>(false);
  Step step{
      upload_file(file.name, file.contents, file.secret),
      [file, may_replace, taken](const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
        if (r.code == at::ResultCode::kCmeError && r.error_code == kFileExists && may_replace) {
          *taken = true;  // field-notes.md 3.3: replace it, never keep what is there
          return std::nullopt;
        }
        const auto suspect = [&](std::string text) {
          info.tls->suspect_files.push_back(file.name);
          return failure(Kind::kTlsFile, std::move(text), Rung::kReopen, true, r.error_code);
        };
        if (!r.ok())
          return suspect(fmt::format("uploading the {} as {}: {}", file.what, file.name, at::describe(r)));
        std::optional<UploadResult> stored;
        for (const auto& line : r.lines)
          if (!stored) stored = parse_qfupl(line);
        if (!stored) return suspect(fmt::format("uploading the {}: no +QFUPL in the answer", file.what));
        if (stored->size != file.contents.size()) {
          return suspect(fmt::format(
              "the module stored {} of the {} bytes of the {} (a truncated upload: check the serial "
              "line's flow control, field-notes.md 3.3)",
              stored->size, file.contents.size(), file.what));
        }
        const std::uint16_t ours = upload_checksum(file.contents);
        if (stored->checksum != ours) {
          return suspect(fmt::format("the {} arrived damaged: the module's checksum is {:04x}, ours {:04x}",
                                     file.what, stored->checksum, ours));
        }
        ++info.tls->files_uploaded;
        forget_suspect(info, file.name);
        return std::nullopt;
      }};
  step.then = [file, taken](ModuleInfo&) -> Script {
    if (!*taken) return {};
    return {delete_step(file.name), upload_step(file, false)};
  };
  return step;
}

// AT+QFLST first; then delete what is ours and no longer wanted, and upload what is missing.
Script file_steps(const SessionConfig& c) {
  auto listed = std::make_shared<std::vector<StoredFile>>();
  Step list{list_files(), [listed](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
              // An empty store answers +CME ERROR on some firmware: then nothing is there.
              listed->clear();
              for (const auto& line : r.lines)
                if (auto file = parse_qflst(line)) listed->push_back(std::move(*file));
              return std::nullopt;
            }};
  list.then = [listed, files = files_of(c.tls)](ModuleInfo& info) -> Script {
    Script next;
    const auto& suspects = info.tls->suspect_files;
    auto wanted = [&](std::string_view name) {
      return std::any_of(files.begin(), files.end(),
                         [&](const TlsFile& f) { return bare_name(f.name) == bare_name(name); });
    };
    for (const StoredFile& stored : *listed) {
      if (bare_name(stored.name).starts_with(kOurFiles) && !wanted(stored.name))
        next.push_back(delete_step(std::string(kFilePrefix) + std::string(bare_name(stored.name))));
    }
    for (const TlsFile& file : files) {
      const bool present = std::any_of(listed->begin(), listed->end(), [&](const StoredFile& s) {
        return bare_name(s.name) == bare_name(file.name) && s.size == file.contents.size();
      });
      const bool suspect = std::find(suspects.begin(), suspects.end(), file.name) != suspects.end();
      if (present && !suspect) continue;
      if (present) next.push_back(delete_step(file.name));
      next.push_back(upload_step(file, true));
    }
    return next;
  };
  return {std::move(list)};
}

Step ssl_step(std::string_view option, int ctx, const std::string& value) {
  return {ssl_set(option, ctx, value),
          [option = std::string(option)](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
            if (r.ok()) return std::nullopt;
            return failed(r, fmt::format("AT+QSSLCFG=\"{}\"", option), Kind::kTlsFile);
          }};
}

// The read-back that goes into the log line of a failed TLS open: what the module really holds.
Step ssl_readback(std::string_view option, int ctx, std::string expected, bool first) {
  return {ssl_query(option, ctx),
          [option = std::string(option), expected, first](const at::Result& r,
                                                          ModuleInfo& info) -> std::optional<Failure> {
            std::string value = "?";
            if (const std::string line = first_line(r); !line.empty()) {
              // +QSSLCFG: "<option>",<ctx>,<value>
              const std::size_t comma = line.find(',', line.find(',') + 1);
              if (comma != std::string::npos) value = line.substr(comma + 1);
            }
            auto& context = info.tls->context;
            if (first) context.clear();
            if (!context.empty()) context += ", ";
            context += option + " " + value;
            if (r.ok() && value != "?" && value != expected) {
              return failure(Kind::kTlsFile,
                             fmt::format("the module did not keep AT+QSSLCFG=\"{}\": it reads {}, not {}",
                                         option, value, expected));
            }
            return std::nullopt;
          }};
}

Script context_steps(const SessionConfig& c) {
  const int ctx = ssl_context(c);
  const TlsSettings& tls = c.tls;
  const bool mutual = !tls.cert_pem.empty();
  const int level = !tls.verify_peer ? kSecLevelNone : mutual ? kSecLevelMutual : kSecLevelServer;
  Script steps = {
      ssl_step(
          "sslversion", ctx,
          std::to_string(tls.version == TlsSettings::Version::kTls12 ? kSslVersionTls12 : kSslVersionAny)),
      ssl_step("ciphersuite", ctx, "0XFFFF"),  // every suite the firmware has; unquoted (field-notes.md 3.1)
      ssl_step("seclevel", ctx, std::to_string(level)),
  };
  for (const TlsFile& file : files_of(tls)) {
    const std::string option = file.what == "CA bundle" ? "cacert" : file.secret ? "clientkey" : "clientcert";
    steps.push_back(ssl_step(option, ctx, "\"" + file.name + "\""));
  }
  // Only "none" ignores the clock: with "peer" an expired certificate must fail.
  steps.push_back(ssl_step("ignorelocaltime", ctx, tls.verify_peer ? "0" : "1"));
  // SNI is off by default on some firmware (field-notes.md 3.3) and unknown to older firmware:
  // asked for, it must take; not asked for, a module without it is fine.
  Step sni = ssl_step("sni", ctx, tls.sni ? "1" : "0");
  if (tls.sni) {
    sni.check = [](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
      if (r.ok()) return std::nullopt;
      return failure(
          Kind::kTlsFile,
          "the module does not take AT+QSSLCFG=\"sni\" (firmware without SNI); set [upstream.tls] sni = "
          "false if the broker does not need it",
          Rung::kReopen, false);
    };
  } else {
    sni = session::optional_step(std::move(sni.command));
  }
  steps.push_back(std::move(sni));
  steps.push_back(ssl_readback("seclevel", ctx, std::to_string(level), true));
  if (tls.verify_peer)
    steps.push_back(ssl_readback("cacert", ctx, "\"" + content_name("ca", tls.ca_pem) + "\"", false));
  return steps;
}

// ---- the clock ------------------------------------------------------------------------------------

struct ClockReadings {
  std::optional<gpp::SystemTime> first;    // AT+CCLK? before anything was done, when plausible
  std::optional<gpp::SystemTime> network;  // AT+QLTS, when the network gave a time
  std::optional<int> ntp_error;            // +QNTP: <err>, or -1 when AT+QNTP itself failed
};

std::string describe_ntp_error(int error) {
  switch (error) {
    case 561:
      return "the PDP context is not active";
    case 565:
      return "the server's name did not resolve";
    case 566:
    case 569:
      return "no answer from the server";
    case -1:
      return "the module refused AT+QNTP";
    default:
      return fmt::format("error {}", error);
  }
}

Step final_clock_read(const SessionConfig& c, std::shared_ptr<ClockReadings> readings) {
  return {gpp::query_clock(),
          [readings, tls = c.tls](const at::Result& r, ModuleInfo& info) -> std::optional<Failure> {
            const auto now = gpp::parse_cclk(first_line(r));
            if (!now || !gpp::clock_plausible(*now)) {
              std::string how = "the network gave no time";
              if (readings->ntp_error) {
                how += fmt::format(" and NTP via {} failed ({})", tls.ntp_server,
                                   describe_ntp_error(*readings->ntp_error));
              }
              return failure(
                  Kind::kClockUnset,
                  fmt::format("the module's clock is not set ({}): {}; it cannot check the server's "
                              "certificate without it. Check [cellular] ntp_server, or set [upstream.tls] "
                              "verify = \"none\" to encrypt without checking",
                              now ? gpp::format_utc(*now) : "unreadable: " + first_line(r), how),
                  Rung::kReopen, false);
            }
            info.tls->module_time = *now;
            info.tls->clock_source = readings->network ? "network" : readings->first ? "module" : "ntp";
            if (tls.valid_until && *now > *tls.valid_until) {
              return failure(
                  Kind::kCertificateTime,
                  fmt::format("the {} expired on {} by the module's clock ({}); renew it",
                              tls.valid_until_file, gpp::format_utc(*tls.valid_until), gpp::format_utc(*now)),
                  Rung::kReopen, false);
            }
            if (tls.valid_from && *now < *tls.valid_from) {
              return failure(
                  Kind::kCertificateTime,
                  fmt::format("the {} is not valid before {} by the module's clock ({})", tls.valid_from_file,
                              gpp::format_utc(*tls.valid_from), gpp::format_utc(*now)),
                  Rung::kReopen, false);
            }
            return std::nullopt;
          }};
}

// AT+CCLK?; AT+QLTS; then, when the clock is not plausible, the network's time (AT+CCLK=) or NTP
// over the cellular link (AT+QNTP, a few hundred bytes); a final AT+CCLK? decides.
Script clock_steps(const SessionConfig& c) {
  auto readings = std::make_shared<ClockReadings>();
  Step read{gpp::query_clock(), [readings](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
              readings->first.reset();
              if (auto t = gpp::parse_cclk(first_line(r)); t && gpp::clock_plausible(*t)) readings->first = t;
              return std::nullopt;
            }};
  Step network{network_time(), [readings](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
                 readings->network.reset();
                 if (auto t = parse_qlts(first_line(r)); t && gpp::clock_plausible(*t)) readings->network = t;
                 return std::nullopt;
               }};
  network.then = [readings, c](ModuleInfo&) -> Script {
    if (readings->first) return {final_clock_read(c, readings)};
    if (readings->network)
      return {session::optional_step(gpp::set_clock(*readings->network)), final_clock_read(c, readings)};
    Step ntp{ntp_sync(c.pdp.context_id, c.tls.ntp_server),
             [readings](const at::Result& r, ModuleInfo&) -> std::optional<Failure> {
               readings->ntp_error = -1;
               if (r.ok() && r.completion) {
                 if (auto result = parse_qntp(*r.completion)) readings->ntp_error = result->error;
               }
               return std::nullopt;  // the final read decides
             }};
    return {std::move(ntp), final_clock_read(c, readings)};
  };
  return {std::move(read), std::move(network)};
}

}  // namespace

session::Script QuectelDialect::secure(const SessionConfig& c) const {
  if (!c.tls.enabled) return {};
  Script steps;
  if (c.tls.verify_peer) steps = clock_steps(c);
  for (Step& step : file_steps(c))
    steps.push_back(std::move(step));
  for (Step& step : context_steps(c))
    steps.push_back(std::move(step));
  return steps;
}

}  // namespace modem::quectel
