// cellmqttd's configuration: TOML in, plain structs out. Every mistake in the file is reported,
// each with its line, column and dotted key, so that one `cellmqttd --check-config` run is enough to
// fix a file on a gateway someone had to drive to.
//
// Where an error points: a value's type, range or choice is reported at the value; a key that is
// unknown, a password_file that cannot be read, and anything that the module could not take inside
// a quoted AT argument are reported at the key; a missing key at its table's header. Values are
// quoted in messages only where they help (topics, choices), never for a password.
#include "config.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <tuple>
#include <utility>

#include "bridge_rules.hpp"
#include "config_tls.hpp"
#include "file_text.hpp"
#include "modem/session/dialects.hpp"
#include "modem/text.hpp"

namespace cellmqttd {
namespace {

using modem::session::Setting;

// A configuration file is a few kilobytes; the caps only keep a wrong path (/dev/zero, a log
// file) from being read forever.
constexpr std::size_t kMaxConfigBytes = 1024 * 1024;
constexpr std::size_t kMaxSecretBytes = 64 * 1024;

// What {imei} and {iccid} become in the client id at their longest: an IMEI has 15 digits, an
// ICCID at most 19 digits and a check digit (ITU-T E.118).
constexpr std::string_view kLongestImei = "000000000000000";
constexpr std::string_view kLongestIccid = "00000000000000000000";

// The rates serial_port.cpp has a termios constant for: USB modems ignore the rate, a UART needs
// one the module is set to.
constexpr int kBaudRates[] = {9600,   19200,   38400,   57600,   115200,  230400,  460800,  500000,  576000,
                              921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000};

// Every table and the keys it takes. Unknown keys are errors rather than warnings: a misspelt key
// is otherwise a setting silently left at its default, found months later in the field.
struct KnownSection {
  std::string_view name;  // dotted; "" is the top level
  std::vector<std::string_view> keys;
};

const std::vector<KnownSection>& known_sections() {
  static const std::vector<KnownSection> sections = {
      {"", {"modem", "cellular", "upstream", "local", "bridge", "spool", "status", "log"}},
      {"modem", {"port", "baud", "model"}},
      {"cellular", {"apn", "username", "password", "password_file", "pdp_type", "context_id", "ntp_server"}},
      {"upstream",
       {"host", "port", "client_id", "username", "password", "password_file", "keepalive_s", "clean_session",
        "protocol", "will", "tls"}},
      {"upstream.will", {"topic", "payload", "qos", "retain"}},
      {"upstream.tls", {"enabled", "ca_file", "cert_file", "key_file", "verify", "sni", "version"}},
      {"local", {"host", "port", "client_id", "username", "password", "password_file", "clean_session"}},
      {"bridge", {"topic", "direction", "qos", "local_prefix", "remote_prefix"}},
      {"spool", {"path", "max_messages", "max_bytes", "overflow"}},
      {"status", {"topic", "interval_s"}},
      {"log", {"level", "at_trace"}},
  };
  return sections;
}

const KnownSection& known_section(std::string_view name) {
  for (const auto& section : known_sections()) {
    if (section.name == name) return section;
  }
  return known_sections().front();  // not reached: every Section names a known one
}

std::string section_header(std::string_view name) {
  if (name.empty()) return "the top level";
  if (name == "bridge") return "[[bridge]]";
  return fmt::format("[{}]", name);
}

// Levenshtein distance, for "did you mean": small strings only.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string lowercase(std::string_view text) {
  std::string lower(text);
  for (char& ch : lower)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return lower;
}

// The closest candidate when it is close enough to be the intended one: at most 2 edits, and
// fewer than half the word (so "qos" does not suggest "host"); case does not count ("EC200U").
std::optional<std::string_view> closest(std::string_view word,
                                        const std::vector<std::string_view>& candidates) {
  std::optional<std::string_view> best;
  std::size_t best_distance = 3;
  for (const auto candidate : candidates) {
    const std::size_t distance = edit_distance(lowercase(word), lowercase(candidate));
    if (distance < best_distance && distance * 2 < std::max(word.size(), candidate.size())) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

// A value as it can be shown in a message: quoted, with control characters escaped so that a CR
// or an escape sequence in the file (ESC, or the one-character CSI, U+009B) cannot garble the
// terminal the message is read on.
std::string shown(std::string_view value) {
  std::string out = "\"";
  while (!value.empty()) {
    const std::size_t length = modem::utf8::sequence_length(value);
    if (length == 0) {  // not after toml++, which takes only valid UTF-8
      out += fmt::format("\\x{:02X}", static_cast<unsigned char>(value.front()));
      value.remove_prefix(1);
      continue;
    }
    const std::string_view sequence = value.substr(0, length);
    value.remove_prefix(length);
    const char32_t c = modem::utf8::decode(sequence);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += sequence;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (modem::utf8::is_control(c)) {
      out += fmt::format("\\u{:04X}", static_cast<std::uint32_t>(c));
    } else {
      out += sequence;
    }
  }
  return out + "\"";
}

// The first control character in `value` (C0, DEL or C1; TOML strings are valid UTF-8), named for
// a message: "a line feed (U+000A)".
std::optional<std::string> first_control_character(std::string_view value) {
  while (!value.empty()) {
    const std::size_t length = modem::utf8::sequence_length(value);
    if (length == 0) {  // not after toml++, which takes only valid UTF-8
      value.remove_prefix(1);
      continue;
    }
    const char32_t c = modem::utf8::decode(value.substr(0, length));
    value.remove_prefix(length);
    if (!modem::utf8::is_control(c)) continue;
    const auto code = static_cast<std::uint32_t>(c);
    switch (c) {
      case '\n':
        return fmt::format("a line feed (U+{:04X})", code);
      case '\r':
        return fmt::format("a carriage return (U+{:04X})", code);
      case '\t':
        return fmt::format("a tab (U+{:04X})", code);
      case 0x1B:
        return fmt::format("an escape (U+{:04X})", code);
      default:
        return fmt::format("the control character U+{:04X}", code);
    }
  }
  return std::nullopt;
}

std::string type_phrase(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// The module's AT parser has no escaping (DESIGN.md, security model), so this is the reason for
// every refusal from check_quoted_argument and its relatives.
std::string at_refusal(const std::string& why) {
  return why + ", which the module cannot take inside a quoted AT argument";
}

// check_topic_filter's reasons: misplaced wildcards are MQTT's rule (3.1.1 §4.7.1), the rest the
// module's.
std::string filter_refusal(const std::string& why) {
  return why.starts_with("has a ")
             ? why + " (MQTT allows '#' only as the whole last level, '+' only as a whole level)"
             : at_refusal(why);
}

// check_publish_topic's reasons: a wildcard is MQTT's rule (3.1.1 §4.7.1), the rest the module's.
std::string publish_refusal(const std::string& why) {
  return why.find("wildcard") != std::string::npos ? why + "; MQTT allows wildcards only in subscriptions"
                                                   : at_refusal(why);
}

// Who besides the owner may read or write a file of this mode, for a message; "" when nobody.
std::string also_accessible_by(mode_t mode) {
  const bool group = (mode & 070) != 0;
  const bool others = (mode & 007) != 0;
  if (group && others) return "its group and everyone else";
  if (group) return "its group";
  if (others) return "everyone else";
  return "";
}

// Editors and `echo secret > file` end the last line; the newline is not part of the secret.
void strip_one_newline(std::string& text) {
  if (text.ends_with("\r\n")) {
    text.resize(text.size() - 2);
  } else if (text.ends_with('\n')) {
    text.pop_back();
  }
}

// toml++ quotes what it stumbled on ("saw 's'", "'12345678901234567890' is not representable in
// 64 bits"), which on a password line is (part of) the secret: such fragments become '***'.
bool line_mentions_password(std::string_view text, std::size_t line) {
  std::size_t start = 0;
  for (std::size_t n = 1; n < line && start != std::string_view::npos; ++n) {
    start = text.find('\n', start);
    if (start != std::string_view::npos) ++start;
  }
  if (start == std::string_view::npos) return false;
  const std::size_t end = text.find('\n', start);
  return lowercase(text.substr(start, end == std::string_view::npos ? end : end - start)).find("password") !=
         std::string::npos;
}

std::string mask_quoted(std::string_view description) {
  std::string masked;
  bool inside = false;
  for (const char ch : description) {
    if (ch == '\'') {
      masked += inside ? "***'" : "'";
      inside = !inside;
    } else if (!inside) {
      masked += ch;
    }
  }
  if (inside) masked += "***'";
  return masked;
}

class Loader;

// One TOML table being read: every read leaves the default in place when the key is absent, and
// reports (and leaves the default) when the value is unusable.
class Section {
 public:
  // `path` is the dotted name used in errors ("bridge[1]"), `kind` the entry of known_sections().
  // `table` is null when the file has no such table.
  Section(Loader& loader, const toml::table* table, std::string path, std::string_view kind)
      : loader_(&loader), table_(table), path_(std::move(path)), kind_(kind) {}

  bool present() const { return table_ != nullptr; }
  const toml::table* table() const { return table_; }
  std::string key_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }
  const toml::key* key(std::string_view name) const {
    if (table_ == nullptr) return nullptr;
    const auto it = table_->find(name);
    return it == table_->end() ? nullptr : &it->first;
  }
  const toml::node* node(std::string_view name) const {
    return table_ == nullptr ? nullptr : table_->get(name);
  }

  void check_unknown_keys() const;
  // A sub-table such as [upstream.will]; reports a value that is not a table.
  Section child(std::string_view name) const;

  bool read(std::string_view name, std::string& out) const;
  bool read(std::string_view name, std::optional<std::string>& out) const;
  bool read(std::string_view name, bool& out) const;
  template <typename Int>
  bool read(std::string_view name, std::int64_t lo, std::int64_t hi, Int& out) const;
  template <typename T>
  bool read_choice(std::string_view name, const std::vector<std::pair<std::string_view, T>>& choices,
                   T& out) const;
  // Reports a missing key at the table's header (or the file, when there is no table).
  bool require(std::string_view name, std::string_view what) const;

  void report_at_key(std::string_view name, std::string message) const;
  void report_at_value(std::string_view name, std::string message) const;

 private:
  const toml::node* typed(std::string_view name, toml::node_type type, std::string_view expected) const;

  Loader* loader_;
  const toml::table* table_;
  std::string path_;
  std::string_view kind_;
};

class Loader {
 public:
  Loader(std::string source, std::filesystem::path base_dir)
      : source_(std::move(source)), base_dir_(std::move(base_dir)) {}

  ConfigResult load(std::string_view text);

  void report(const toml::source_region& where, std::string key, std::string message) {
    errors_.push_back({source_, static_cast<int>(where.begin.line), static_cast<int>(where.begin.column),
                       std::move(key), std::move(message)});
  }
  void report_file(std::string key, std::string message) {
    errors_.push_back({source_, 0, 0, std::move(key), std::move(message)});
  }
  void warn(const toml::source_region& where, std::string key, std::string message) {
    warnings_.push_back({source_, static_cast<int>(where.begin.line), static_cast<int>(where.begin.column),
                         std::move(key), std::move(message), true});
  }

 private:
  void load_modem(const Section& s);
  void load_cellular(const Section& s);
  void load_upstream(const Section& s);
  void load_will(const Section& s);
  void load_tls(const Section& s);
  void load_local(const Section& s);
  void load_bridges(const Section& top);
  void load_bridge(const Section& s);
  void load_spool(const Section& s);
  void load_status(const Section& s);
  void load_log(const Section& s);

  // password or password_file. `at_max` is set when the secret goes into a quoted AT argument.
  std::optional<std::string> read_secret(const Section& s, std::optional<Setting> at_setting);
  // Why `value` cannot go into the module's commands as `setting`, or nullopt.
  std::optional<std::string> module_refusal(Setting setting, std::string_view value) const;
  std::string resolve(const std::string& path) const;

  std::string source_;
  std::filesystem::path base_dir_;
  DaemonConfig config_;
  std::optional<toml::source_region> upstream_where_;
  std::vector<ConfigError> errors_;
  std::vector<ConfigError> warnings_;
};

// ---- Section ----------------------------------------------------------------------------------

void Section::check_unknown_keys() const {
  if (table_ == nullptr) return;
  const auto& known = known_section(kind_).keys;
  for (auto&& [key, value] : *table_) {
    const std::string_view name = key.str();
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    std::string message = "unknown key";
    if (const auto suggestion = closest(name, known)) {
      message += fmt::format("; did you mean \"{}\"?", *suggestion);
    } else {
      // A known key in the wrong table: typically one written below [upstream.will] that was
      // meant for [upstream], since a header holds every key up to the next header.
      std::vector<std::string> homes;
      for (const auto& section : known_sections()) {
        if (section.name != kind_ &&
            std::find(section.keys.begin(), section.keys.end(), name) != section.keys.end())
          homes.push_back(section_header(section.name));
      }
      if (homes.size() == 1 && homes.front() == section_header("")) {
        message += fmt::format("; \"{}\" belongs at the top level, above the first table header", name);
      } else if (!homes.empty()) {
        message += fmt::format("; \"{}\" belongs in {}", name, fmt::join(homes, " or "));
        if (!kind_.empty()) message += ", and every key after a table header belongs to that table";
      }
    }
    loader_->report(key.source(), key_path(name), std::move(message));
  }
}

Section Section::child(std::string_view name) const {
  const std::string kind = kind_.empty() ? std::string(name) : fmt::format("{}.{}", kind_, name);
  const std::string_view known_kind = known_section(kind).name;  // a string_view that outlives us
  const toml::node* n = node(name);
  if (n != nullptr && !n->is_table()) {
    loader_->report(n->source(), key_path(name),
                    fmt::format("expected a table ([{}]), got {}", kind, type_phrase(n->type())));
    n = nullptr;
  }
  return Section(*loader_, n == nullptr ? nullptr : n->as_table(), key_path(name), known_kind);
}

const toml::node* Section::typed(std::string_view name, toml::node_type type,
                                 std::string_view expected) const {
  const toml::node* n = node(name);
  if (n == nullptr) return nullptr;
  if (n->type() != type) {
    loader_->report(n->source(), key_path(name),
                    fmt::format("expected {}, got {}", expected, type_phrase(n->type())));
    return nullptr;
  }
  return n;
}

bool Section::read(std::string_view name, std::string& out) const {
  const toml::node* n = typed(name, toml::node_type::string, "a string");
  if (n == nullptr) return false;
  out = n->as_string()->get();
  return true;
}

bool Section::read(std::string_view name, std::optional<std::string>& out) const {
  std::string value;
  if (!read(name, value)) return false;
  out = std::move(value);
  return true;
}

bool Section::read(std::string_view name, bool& out) const {
  const toml::node* n = typed(name, toml::node_type::boolean, "a boolean (true or false)");
  if (n == nullptr) return false;
  out = n->as_boolean()->get();
  return true;
}

template <typename Int>
bool Section::read(std::string_view name, std::int64_t lo, std::int64_t hi, Int& out) const {
  const toml::node* n = typed(name, toml::node_type::integer, "an integer");
  if (n == nullptr) return false;
  const std::int64_t value = n->as_integer()->get();
  if (value < lo || value > hi) {
    report_at_value(name, hi >= std::numeric_limits<int>::max()
                              ? fmt::format("must be at least {}, not {}", lo, value)
                              : fmt::format("must be from {} to {}, not {}", lo, hi, value));
    return false;
  }
  out = static_cast<Int>(value);
  return true;
}

template <typename T>
bool Section::read_choice(std::string_view name, const std::vector<std::pair<std::string_view, T>>& choices,
                          T& out) const {
  std::string value;
  if (!read(name, value)) return false;
  std::vector<std::string_view> names;
  for (const auto& [choice, result] : choices) {
    if (choice == value) {
      out = result;
      return true;
    }
    names.push_back(choice);
  }
  std::vector<std::string> quoted;
  for (const auto choice : names)
    quoted.push_back(shown(choice));
  std::string message = fmt::format("must be one of {}, not {}", fmt::join(quoted, ", "), shown(value));
  if (const auto suggestion = closest(value, names))
    message += fmt::format("; did you mean \"{}\"?", *suggestion);
  report_at_value(name, std::move(message));
  return false;
}

bool Section::require(std::string_view name, std::string_view what) const {
  if (node(name) != nullptr) return true;
  const std::string message = fmt::format("is required: {}", what);
  if (table_ != nullptr) {
    loader_->report(table_->source(), key_path(name), message);
  } else {
    loader_->report_file(key_path(name), message);
  }
  return false;
}

void Section::report_at_key(std::string_view name, std::string message) const {
  loader_->report(key(name)->source(), key_path(name), std::move(message));
}

void Section::report_at_value(std::string_view name, std::string message) const {
  loader_->report(node(name)->source(), key_path(name), std::move(message));
}

// ---- Loader -----------------------------------------------------------------------------------

ConfigResult Loader::load(std::string_view text) {
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(source_));
  } catch (const toml::parse_error& error) {
    // toml++ stops at the first syntax error: what follows it cannot be read reliably anyway.
    std::string description(error.description());
    if (line_mentions_password(text, error.source().begin.line)) description = mask_quoted(description);
    report(error.source(), "", std::move(description));
  }
  if (errors_.empty()) {
    const Section top(*this, &root, "", "");
    top.check_unknown_keys();
    load_modem(top.child("modem"));
    load_cellular(top.child("cellular"));
    load_upstream(top.child("upstream"));
    load_local(top.child("local"));
    load_bridges(top);
    load_spool(top.child("spool"));
    load_status(top.child("status"));
    load_log(top.child("log"));
  }
  const auto tls_file = [](const ConfigError& e) { return e.tls_file; };
  const bool usable = std::all_of(errors_.begin(), errors_.end(), tls_file);
  // The backstop: the session refuses to start on anything check_session_config finds. The checks
  // above should have found all of it, with a better position; run only when they found nothing
  // else, so that one mistake is not reported twice.
  if (usable) {
    for (auto& problem : modem::session::check_session_config(to_session_config(config_))) {
      if (upstream_where_) {
        report(*upstream_where_, "upstream", std::move(problem));
      } else {
        report_file("upstream", std::move(problem));
      }
    }
  }

  // In the order of the file, as a compiler lists them; errors about the file as a whole last.
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    const auto order = [](const ConfigError& e) {
      return std::pair(e.line == 0 ? std::numeric_limits<int>::max() : e.line, e.column);
    };
    return order(a) < order(b);
  });
  std::stable_sort(warnings_.begin(), warnings_.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  ConfigResult result;
  if (std::all_of(errors_.begin(), errors_.end(), tls_file)) result.config = std::move(config_);
  result.errors = std::move(errors_);
  result.warnings = std::move(warnings_);
  return result;
}

std::string Loader::resolve(const std::string& path) const {
  const std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  std::string resolved = (base_dir_ / p).lexically_normal().string();
  if (resolved.size() > 1 && resolved.ends_with('/')) resolved.pop_back();  // "dir/." normalises to "dir/"
  return resolved;
}

std::optional<std::string> Loader::module_refusal(Setting setting, std::string_view value) const {
  // Checked for the module [modem] model names ("auto": every family this build drives, so the
  // file works whatever module is plugged in).
  return modem::session::check_setting(config_.modem.model, setting, value);
}

std::optional<std::string> Loader::read_secret(const Section& s, std::optional<Setting> at_setting) {
  const bool inline_password = s.key("password") != nullptr;
  const bool password_file = s.key("password_file") != nullptr;
  if (inline_password && password_file) {
    s.report_at_key("password_file",
                    "is set together with password; keep only one (password_file keeps the secret out "
                    "of this file)");
    return std::nullopt;
  }
  if (inline_password) {
    std::string password;
    if (!s.read("password", password)) return std::nullopt;
    if (at_setting && !password.empty()) {
      if (auto why = module_refusal(*at_setting, password))
        s.report_at_key("password", "the password " + at_refusal(*why));
    }
    return password;
  }
  if (!password_file) return std::nullopt;

  std::string file;
  if (!s.read("password_file", file)) return std::nullopt;
  if (file.empty()) {
    s.report_at_value("password_file", "is empty; give the path of the file that holds the password");
    return std::nullopt;
  }
  const std::string path = resolve(file);
  auto content = read_text_file(path, kMaxSecretBytes);
  if (!content.text) {
    const bool denied = content.err == EACCES || content.err == EPERM;
    s.report_at_key(
        "password_file",
        fmt::format("cannot read {}: {}{}", path, content.error,
                    denied ? fmt::format(" (the packaged service runs as user {}, which must own it: "
                                         "sudo chown {} {})",
                                         kServiceUser, kServiceUser, path)
                           : ""));
    return std::nullopt;
  }
  // As ssh refuses a private key that others may read: a secret that every local user can read is
  // no secret, and saying so at --check-config is better than finding it in an audit. Write access
  // counts too (it would let them swap the credentials), as with ssh.
  if (const std::string who = also_accessible_by(content.mode); !who.empty()) {
    s.report_at_key(
        "password_file",
        fmt::format(
            "{} has mode {:04o}, so {} can get at the password; a password file must be readable by "
            "its owner only (as ssh requires of a private key): chmod 600 {} (the packaged service runs "
            "as user {}, which must own it: sudo chown {} {})",
            path, content.mode, who, path, kServiceUser, kServiceUser, path));
    return std::nullopt;
  }
  std::string password = std::move(*content.text);
  strip_one_newline(password);
  if (password.empty()) {
    // Almost always a secret that was never filled in; remove password_file for no password.
    s.report_at_key("password_file",
                    fmt::format("{} is empty; put the password in it, or remove password_file", path));
    return std::nullopt;
  }
  if (at_setting) {
    if (auto why = module_refusal(*at_setting, password)) {
      const bool newline =
          why->find("line feed") != std::string::npos || why->find("carriage return") != std::string::npos;
      s.report_at_key("password_file",
                      fmt::format("the password in {} {}{}", path, at_refusal(*why),
                                  newline ? " (only one newline at the end of the file is ignored)" : ""));
    }
  }
  return password;
}

void Loader::load_modem(const Section& s) {
  s.check_unknown_keys();
  ModemConfig& m = config_.modem;
  if (s.read("port", m.port) && m.port != "auto") {
    const std::string expected =
        "must be \"auto\" or a device path such as /dev/ttyUSB2 or /dev/serial/by-id/...";
    if (const auto control = first_control_character(m.port)) {
      // No device path has one, and the path goes into log lines and systemd's STATUS=, where a
      // newline would start a line (or a notify assignment) of its own.
      s.report_at_value("port", fmt::format("{}; {} contains {}, which no device path has", expected,
                                            shown(m.port), *control));
    } else if (!m.port.starts_with('/')) {
      std::string message = expected;
      if (!m.port.empty() && m.port.find('/') == std::string::npos)
        message += fmt::format("; did you mean \"/dev/{}\"?", m.port);
      s.report_at_value("port", std::move(message));
    }
  }
  if (std::int64_t baud = 0; s.read("baud", std::numeric_limits<std::int64_t>::min(),
                                    std::numeric_limits<std::int64_t>::max(), baud)) {
    if (std::find(std::begin(kBaudRates), std::end(kBaudRates), baud) != std::end(kBaudRates)) {
      m.baud = static_cast<int>(baud);
    } else {
      s.report_at_value("baud", fmt::format("must be one of the serial rates {}, not {}",
                                            fmt::join(kBaudRates, ", "), baud));
    }
  }
  // The modules this build has a dialect for; "auto" takes the one the module names in ATI;
  // "ec200u" is the value of configurations from before there were several.
  std::vector<std::pair<std::string_view, std::string>> models = {{"auto", "auto"}};
  for (const std::string_view name : modem::session::dialect_names())
    models.emplace_back(name, std::string(name));
  models.emplace_back("ec200u", "ec200u");
  if (const toml::node* value = s.node("model"); value != nullptr && value->is_string()) {
    if (const auto later = modem::session::model_not_supported_yet(value->as_string()->get())) {
      s.report_at_value("model", *later + "; use \"auto\" or name one this release drives");
      return;
    }
  }
  s.read_choice<std::string>("model", models, m.model);
}

void Loader::load_cellular(const Section& s) {
  s.check_unknown_keys();
  CellularConfig& c = config_.cellular;
  // All of these go into AT+QICSGP="<apn>","<user>","<pw>"; empty is allowed (no APN, no auth).
  const auto at_checked = [&](std::string_view name, std::string& value, Setting setting) {
    if (!s.read(name, value) || value.empty()) return;
    if (auto why = module_refusal(setting, value)) s.report_at_key(name, at_refusal(*why));
  };
  at_checked("apn", c.apn, Setting::kApn);
  at_checked("username", c.username, Setting::kApnUsername);
  if (auto password = read_secret(s, Setting::kApnPassword)) c.password = std::move(*password);
  s.read_choice<std::string>("pdp_type", {{"ipv4", "ipv4"}, {"ipv6", "ipv6"}, {"ipv4v6", "ipv4v6"}},
                             c.pdp_type);
  // The families differ (seeds/001: 1-16, seeds/002: 1-15): the range of the module [modem] names
  // ("auto": what every family takes).
  s.read("context_id", 1, modem::session::max_context_id(config_.modem.model), c.context_id);
  // The module is given the name in a quoted argument, as it is the broker's.
  if (s.read("ntp_server", c.ntp_server)) {
    if (c.ntp_server.empty()) {
      s.report_at_value(
          "ntp_server",
          "is empty; give an NTP server's host name or address (the default is \"pool.ntp.org\")");
    } else if (auto why = module_refusal(Setting::kHost, c.ntp_server)) {
      s.report_at_key("ntp_server", at_refusal(*why));
    }
  }
}

void Loader::load_upstream(const Section& s) {
  s.check_unknown_keys();
  UpstreamConfig& u = config_.upstream;
  if (s.present()) upstream_where_ = s.table()->source();

  if (s.require("host", "the upstream broker's host name or IP address") && s.read("host", u.host)) {
    if (u.host.empty()) {
      s.report_at_value("host", "is empty; give the upstream broker's host name or IP address");
    } else if (auto why = module_refusal(Setting::kHost, u.host)) {
      s.report_at_key("host", at_refusal(*why));
    }
  }
  s.read("port", 1, 65535, u.port);

  if (s.read("client_id", u.client_id)) {
    if (u.client_id.empty()) {
      s.report_at_value("client_id",
                        "is empty; the module needs a client id (the default is \"cellmqttd-{imei}\")");
    } else {
      // Any other {word} is most likely a misspelt placeholder that would be sent as it is.
      std::optional<std::string> unknown;
      for (std::size_t open = u.client_id.find('{'); open != std::string::npos && !unknown;
           open = u.client_id.find('{', open + 1)) {
        const std::size_t close = u.client_id.find('}', open);
        if (close == std::string::npos) break;
        const std::string word = u.client_id.substr(open, close - open + 1);
        if (word != "{imei}" && word != "{iccid}" &&
            std::all_of(word.begin() + 1, word.end() - 1, [](char ch) {
              return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_';
            }))
          unknown = word;
      }
      // Checked as the module will see it: with the placeholders filled in at their longest.
      std::string filled = u.client_id;
      for (const auto& [placeholder, value] :
           {std::pair<std::string_view, std::string_view>{"{imei}", kLongestImei},
            {"{iccid}", kLongestIccid}}) {
        for (std::size_t at = filled.find(placeholder); at != std::string::npos;
             at = filled.find(placeholder, at))
          filled.replace(at, placeholder.size(), value);
      }
      if (unknown) {
        s.report_at_value("client_id",
                          fmt::format("has the unknown placeholder {}; only {{imei}} and {{iccid}} are "
                                      "filled in",
                                      *unknown));
      } else if (auto why = module_refusal(Setting::kClientId, filled)) {
        s.report_at_key(
            "client_id",
            at_refusal(*why + (filled != u.client_id ? " once {imei}/{iccid} are filled in" : "")));
      }
    }
  }
  if (s.read("username", u.username) && !u.username->empty()) {
    if (auto why = module_refusal(Setting::kUsername, *u.username))
      s.report_at_key("username", at_refusal(*why));
  }
  if (auto password = read_secret(s, Setting::kPassword)) u.password = std::move(*password);
  s.read("keepalive_s", 0, 3600, u.keepalive_s);  // what the modules take: 0-3600 s, 0 = none
  s.read("clean_session", u.clean_session);
  s.read_choice<std::string>("protocol", {{"3.1.1", "3.1.1"}, {"3.1", "3.1"}}, u.protocol);
  load_will(s.child("will"));
  load_tls(s.child("tls"));
  // MQTT over TLS has its own registered port (IANA: secure-mqtt, 8883), which every cloud uses.
  if (u.tls.enabled && s.node("port") == nullptr) u.port = 8883;
}

void Loader::load_will(const Section& s) {
  if (!s.present()) return;
  s.check_unknown_keys();
  WillConfig w;
  // The broker publishes it for us, so it is a topic name: no wildcards.
  if (s.require("topic", "the topic the broker publishes the will message to") && s.read("topic", w.topic)) {
    if (auto why = module_refusal(Setting::kWillTopic, w.topic))
      s.report_at_key("topic", publish_refusal(*why));
  }
  // The module takes the message inside a quoted argument too.
  if (s.read("payload", w.payload) && !w.payload.empty()) {
    if (auto why = module_refusal(Setting::kWillMessage, w.payload))
      s.report_at_key("payload", at_refusal(*why));
  }
  s.read("qos", 0, 2, w.qos);
  s.read("retain", w.retain);
  config_.upstream.will = std::move(w);
}

// [upstream.tls]. With enabled = false only the keys' names and values are checked: a prepared
// section, or one switched off for a test, must not keep the daemon from starting, so no file is
// read and no rule between the keys applies.
void Loader::load_tls(const Section& s) {
  if (!s.present()) return;
  s.check_unknown_keys();
  UpstreamTlsConfig& t = config_.upstream.tls;
  const std::size_t errors_before = errors_.size();
  s.read("enabled", t.enabled);
  s.read("ca_file", t.ca_file);
  s.read("cert_file", t.cert_file);
  s.read("key_file", t.key_file);
  s.read_choice<bool>("verify", {{"peer", true}, {"none", false}}, t.verify_peer);
  s.read("sni", t.sni);
  s.read_choice<std::string>("version", {{"1.2", "1.2"}, {"any", "any"}}, t.version);
  // A value that could not be read leaves the rules below guessing.
  if (!t.enabled || errors_.size() != errors_before) return;

  const std::string& model = config_.modem.model;
  const std::size_t max_file = modem::session::max_tls_file(model);
  if (max_file == 0) {
    s.report_at_value("enabled",
                      model == "auto"
                          ? std::string("none of the module families this release drives supports TLS")
                          : fmt::format("the module family {} does not support TLS in this release",
                                        modem::session::canonical_model(model).value_or(model)));
    return;
  }

  // A file key that is missing is reported at the table's header; one that is there but "" at
  // its value.
  const auto missing = [&](std::string_view name, const std::string& message) {
    if (s.node(name) != nullptr) {
      s.report_at_value(name, "is empty; " + message);
    } else {
      report(s.table()->source(), s.key_path(name), "is required " + message);
    }
  };
  if (t.verify_peer && t.ca_file.empty()) {
    missing("ca_file",
            "when verify = \"peer\": the PEM file of the CA the broker's certificate chains to (the module "
            "has no CA store of its own)");
  }
  if (!t.cert_file.empty() && t.key_file.empty())
    missing("key_file", "with cert_file: the PEM private key of the client certificate");
  if (t.cert_file.empty() && !t.key_file.empty())
    missing("cert_file", "with key_file: the PEM client certificate the key belongs to");
  if (!t.verify_peer && !t.cert_file.empty()) {
    s.report_at_key(
        "cert_file",
        "cannot be used with verify = \"none\": the modules present a client certificate only while "
        "they verify the server; set verify = \"peer\" and ca_file");
  }
  if (!t.verify_peer) {
    warn(s.node("verify")->source(), s.key_path("verify"),
         "is \"none\": the server is not authenticated: anyone on the path can pose as it");
    if (!t.ca_file.empty()) {
      warn(s.key("ca_file")->source(), s.key_path("ca_file"),
           "is not used with verify = \"none\", so it is not read");
      t.ca_file.clear();
    }
  }
  if (errors_.size() != errors_before) return;  // which files are meant is not clear yet

  for (auto& problem : load_tls_files(t, base_dir_, max_file, std::chrono::system_clock::now())) {
    const std::string_view name = problem.key == TlsKey::kCaFile     ? "ca_file"
                                  : problem.key == TlsKey::kCertFile ? "cert_file"
                                  : problem.key == TlsKey::kKeyFile  ? "key_file"
                                                                     : "";
    const toml::source_region& where = name.empty() ? s.table()->source() : s.key(name)->source();
    const std::string key = name.empty() ? std::string("upstream.tls") : s.key_path(name);
    if (problem.warning) {
      warn(where, key, std::move(problem.message));
    } else {
      report(where, key, std::move(problem.message));
      errors_.back().tls_file = true;
    }
  }
}

void Loader::load_local(const Section& s) {
  s.check_unknown_keys();
  LocalConfig& l = config_.local;
  // The local broker is reached through libmosquitto, not the module: no AT rules here.
  if (s.read("host", l.host) && l.host.empty())
    s.report_at_value("host", "is empty; give the local broker's address (127.0.0.1 by default)");
  s.read("port", 1, 65535, l.port);
  if (s.read("client_id", l.client_id) && l.client_id.empty())
    s.report_at_value("client_id",
                      "is empty; the local broker keeps our queued messages under this client id");
  s.read("username", l.username);
  if (auto password = read_secret(s, std::nullopt)) l.password = std::move(*password);
  s.read("clean_session", l.clean_session);
}

void Loader::load_bridges(const Section& top) {
  const toml::node* n = top.node("bridge");
  const std::string why = "without a [[bridge]] nothing is forwarded in either direction";
  if (n == nullptr) {
    report_file("bridge", "at least one [[bridge]] is required: " + why);
    return;
  }
  const toml::array* rules = n->as_array();
  if (rules == nullptr) {
    top.report_at_value("bridge",
                        fmt::format("expected an array of tables (one [[bridge]] header per rule), got {}",
                                    type_phrase(n->type())));
    return;
  }
  if (rules->empty()) {
    top.report_at_value("bridge", "is empty; at least one [[bridge]] is required: " + why);
    return;
  }
  for (std::size_t i = 0; i < rules->size(); ++i) {
    const toml::node& rule = *rules->get(i);
    const std::string path = fmt::format("bridge[{}]", i);
    if (!rule.is_table()) {
      report(rule.source(), path,
             fmt::format("expected a table ([[bridge]]), got {}", type_phrase(rule.type())));
      continue;
    }
    load_bridge(Section(*this, rule.as_table(), path, "bridge"));
  }
}

// The mosquitto bridge semantics (bridge_rules.hpp): a local topic <local_prefix><X> where X
// matches <topic> is published upstream as <remote_prefix><X>, and the other way round for "in".
// So <remote_prefix><topic> is what the module subscribes to (in, both) and what every upstream topic
// of an "out" rule matches; either way it must be a filter the module and MQTT accept.
void Loader::load_bridge(const Section& s) {
  s.check_unknown_keys();
  BridgeRule rule;
  const bool has_topic = s.require("topic", "the topic pattern to bridge (with + and # as in MQTT)") &&
                         s.read("topic", rule.topic);
  s.read_choice<Direction>("direction",
                           {{"out", Direction::kOut}, {"in", Direction::kIn}, {"both", Direction::kBoth}},
                           rule.direction);
  s.read("qos", 0, 2, rule.qos);
  // A prefix is put in front of real topic names, so, like mosquitto, no wildcards in it.
  bool prefixes_usable = true;
  for (const auto& [name, value] :
       {std::pair<std::string_view, std::string*>{"local_prefix", &rule.local_prefix},
        {"remote_prefix", &rule.remote_prefix}}) {
    if (!s.read(name, *value)) {
      prefixes_usable = prefixes_usable && s.node(name) == nullptr;
      continue;
    }
    if (value->find_first_of("+#") != std::string::npos) {
      s.report_at_key(
          name, fmt::format("{} contains a wildcard ('+' or '#'); a prefix is put in front of real topic "
                            "names and cannot have one",
                            shown(*value)));
      prefixes_usable = false;
    }
  }

  if (has_topic) {
    if (rule.topic.empty()) {
      s.report_at_value("topic", "is empty; give the topic pattern to bridge (\"#\" for everything)");
    } else if (auto why = module_refusal(Setting::kTopicFilter, rule.topic)) {
      s.report_at_key("topic", fmt::format("{} {}", shown(rule.topic), filter_refusal(*why)));
    } else if (prefixes_usable) {
      // Each prefix is checked with the topic, as the filter will be used; the error goes to the
      // prefix, since the topic alone is fine.
      // The upstream filter goes to the module; the local one only to Mosquitto, so only MQTT's
      // rules (and the same length limit, as the other side of the rule) are the reason there.
      for (const auto& [name, prefix, upstream] : {std::tuple<std::string_view, const std::string*, bool>{
                                                       "remote_prefix", &rule.remote_prefix, true},
                                                   {"local_prefix", &rule.local_prefix, false}}) {
        if (prefix->empty()) continue;
        const std::string filter = *prefix + rule.topic;
        const auto why = module_refusal(Setting::kTopicFilter, filter);
        if (!why) continue;
        const bool misplaced_wildcard = why->starts_with("has a ");
        s.report_at_key(name, fmt::format("{} + topic gives the {} filter {}: it {}{}", name,
                                          upstream ? "upstream" : "local", shown(filter),
                                          upstream || misplaced_wildcard ? filter_refusal(*why) : *why,
                                          misplaced_wildcard && !prefix->ends_with('/')
                                              ? " (does the prefix need a trailing '/'?)"
                                              : ""));
      }
    }
  }
  config_.bridges.push_back(std::move(rule));
}

void Loader::load_spool(const Section& s) {
  s.check_unknown_keys();
  SpoolConfig& sp = config_.spool;
  if (s.read("path", sp.path)) {
    if (sp.path.empty()) {
      s.report_at_value("path", "is empty; give the file the spool database is kept in");
    } else {
      sp.path = resolve(sp.path);  // the daemon runs from /, so a relative path means the config's directory
    }
  }
  s.read("max_messages", 1, std::numeric_limits<std::int64_t>::max(), sp.max_messages);
  s.read("max_bytes", 1, std::numeric_limits<std::int64_t>::max(), sp.max_bytes);
  s.read_choice<Overflow>(
      "overflow", {{"drop-oldest", Overflow::kDropOldest}, {"drop-new", Overflow::kDropNew}}, sp.overflow);
}

void Loader::load_status(const Section& s) {
  s.check_unknown_keys();
  StatusConfig& st = config_.status;
  // It may be published upstream through the module, so it must be a topic name the module takes.
  if (s.read("topic", st.topic)) {
    if (auto why = module_refusal(Setting::kTopic, st.topic)) s.report_at_key("topic", publish_refusal(*why));
  }
  s.read("interval_s", 1, std::numeric_limits<int>::max(), st.interval_s);
}

void Loader::load_log(const Section& s) {
  s.check_unknown_keys();
  LogConfig& l = config_.log;
  s.read_choice<std::string>(
      "level",
      {{"trace", "trace"}, {"debug", "debug"}, {"info", "info"}, {"warn", "warn"}, {"error", "error"}},
      l.level);
  s.read("at_trace", l.at_trace);
}

}  // namespace

std::string ConfigError::to_string() const {
  std::string text = file;
  if (line > 0) text += fmt::format(":{}:{}", line, column);
  text += ": ";
  if (warning) text += "warning: ";
  if (!key.empty()) text += key + ": ";  // a syntax error has no key
  return text + message;
}

ConfigResult load_config(const std::string& path) {
  auto content = read_text_file(path, kMaxConfigBytes);
  if (!content.text) {
    ConfigResult result;
    result.errors.push_back(
        {path, 0, 0, "", fmt::format("cannot read the configuration: {}", content.error)});
    return result;
  }
  std::string base_dir = std::filesystem::path(path).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  return parse_config(*content.text, path, base_dir);
}

ConfigResult parse_config(std::string_view text, const std::string& source_name,
                          const std::string& base_dir) {
  return Loader(source_name, base_dir).load(text);
}

bool only_tls_file_errors(const ConfigResult& result) {
  return !result.errors.empty() && std::all_of(result.errors.begin(), result.errors.end(),
                                               [](const ConfigError& e) { return e.tls_file; });
}

modem::session::SessionConfig to_session_config(const DaemonConfig& config) {
  modem::session::SessionConfig s;
  const CellularConfig& c = config.cellular;
  s.pdp.context_id = c.context_id;
  s.pdp.type = c.pdp_type == "ipv6"     ? modem::session::PdpType::kIpv6
               : c.pdp_type == "ipv4v6" ? modem::session::PdpType::kIpv4v6
                                        : modem::session::PdpType::kIpv4;
  s.pdp.apn = c.apn;
  s.pdp.username = c.username;
  s.pdp.password = c.password;

  const UpstreamConfig& u = config.upstream;
  s.host = u.host;
  s.port = u.port;
  s.client_id = u.client_id;
  s.username = u.username;
  s.password = u.password;
  s.keepalive_s = u.keepalive_s;
  s.clean_session = u.clean_session;
  s.protocol_version = u.protocol == "3.1" ? 3 : 4;
  if (u.will) s.will = modem::session::Will{u.will->topic, u.will->payload, u.will->qos, u.will->retain};
  s.model = std::string(modem::session::canonical_model(config.modem.model).value_or("auto"));

  const UpstreamTlsConfig& t = u.tls;
  s.tls.enabled = t.enabled;
  s.tls.verify_peer = t.verify_peer;
  s.tls.sni = t.sni;
  s.tls.version = t.version == "any" ? modem::session::TlsSettings::Version::kAny
                                     : modem::session::TlsSettings::Version::kTls12;
  s.tls.ca_pem = t.ca_pem;
  s.tls.cert_pem = t.cert_pem;
  s.tls.key_pem = t.key_pem;
  s.tls.valid_from = t.window.valid_from;
  s.tls.valid_until = t.window.valid_until;
  s.tls.valid_from_file = t.window.valid_from_file;
  s.tls.valid_until_file = t.window.valid_until_file;
  s.tls.ntp_server = c.ntp_server;

  // The upstream side of the in/both rules, as the bridge routes them.
  s.subscriptions = BridgeRules(config.bridges).remote_subscriptions();
  return s;
}

}  // namespace cellmqttd
