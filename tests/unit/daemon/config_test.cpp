#include "config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace cellmqttd {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSource = "test.toml";
// Written to password files and used as inline passwords: must never appear in an error.
constexpr const char* kSecret = "s3cr3t-Passw0rd";

std::vector<std::string> errors_of(const ConfigResult& result) {
  std::vector<std::string> lines;
  for (const auto& error : result.errors)
    lines.push_back(error.to_string());
  return lines;
}

std::vector<std::string> errors_of(std::string_view text, const std::string& base_dir = ".") {
  return errors_of(parse_config(text, kSource, base_dir));
}

using TempDir = test_support::TempDir;

// A password file as it must be: readable by its owner only (mode 0600, whatever the umask).
std::string write_secret(const TempDir& dir, const std::string& name, const std::string& content) {
  const std::string path = dir.write(name, content);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  return path;
}

// ---- a valid file -----------------------------------------------------------------------------

TEST(Config, AFullFileMapsToTheStructs) {
  TempDir dir;
  write_secret(dir, "upstream.pw", std::string(kSecret) + "\n");
  write_secret(dir, "local.pw", "local-pw\r\n");
  const auto result = parse_config(R"(
[modem]
port = "/dev/serial/by-id/usb-Quectel_EC200U-if02"
baud = 921600
model = "ec200u"

[cellular]
apn = "iot.example"
username = "apnuser"
password = "apnpass"
pdp_type = "ipv4v6"
context_id = 3

[upstream]
host = "broker.example.com"
port = 8883
client_id = "gw-{imei}-{iccid}"
username = "gw"
password_file = "upstream.pw"
keepalive_s = 300
clean_session = true
protocol = "3.1"

[upstream.will]
topic = "gw/state"
payload = "offline"
qos = 1
retain = true

[local]
host = "10.0.0.2"
port = 1884
client_id = "bridge-1"
username = "bridge"
password_file = "local.pw"
clean_session = true

[[bridge]]
topic = "telemetry/#"

[[bridge]]
topic = "cmd/+"
direction = "in"
qos = 2
local_prefix = "local/"
remote_prefix = "cloud/"

[[bridge]]
topic = "sync"
direction = "both"
qos = 0

[spool]
path = "spool/queue.db"
max_messages = 10
max_bytes = 4096
overflow = "drop-new"

[status]
topic = "gw/status"
interval_s = 15

[log]
level = "debug"
at_trace = true
)",
                                   kSource, dir.path().string());
  ASSERT_TRUE(result.errors.empty()) << errors_of(result).front();
  ASSERT_TRUE(result.config.has_value());
  const DaemonConfig& c = *result.config;

  EXPECT_EQ(c.modem.port, "/dev/serial/by-id/usb-Quectel_EC200U-if02");
  EXPECT_EQ(c.modem.baud, 921600);
  EXPECT_EQ(c.modem.model, "ec200u");

  EXPECT_EQ(c.cellular.apn, "iot.example");
  EXPECT_EQ(c.cellular.username, "apnuser");
  EXPECT_EQ(c.cellular.password, "apnpass");
  EXPECT_EQ(c.cellular.pdp_type, "ipv4v6");
  EXPECT_EQ(c.cellular.context_id, 3);

  EXPECT_EQ(c.upstream.host, "broker.example.com");
  EXPECT_EQ(c.upstream.port, 8883);
  EXPECT_EQ(c.upstream.client_id, "gw-{imei}-{iccid}");
  EXPECT_EQ(c.upstream.username, "gw");
  EXPECT_EQ(c.upstream.password, kSecret);  // the file's newline stripped
  EXPECT_EQ(c.upstream.keepalive_s, 300);
  EXPECT_TRUE(c.upstream.clean_session);
  EXPECT_EQ(c.upstream.protocol, "3.1");
  ASSERT_TRUE(c.upstream.will.has_value());
  EXPECT_EQ(c.upstream.will->topic, "gw/state");
  EXPECT_EQ(c.upstream.will->payload, "offline");
  EXPECT_EQ(c.upstream.will->qos, 1);
  EXPECT_TRUE(c.upstream.will->retain);

  EXPECT_EQ(c.local.host, "10.0.0.2");
  EXPECT_EQ(c.local.port, 1884);
  EXPECT_EQ(c.local.client_id, "bridge-1");
  EXPECT_EQ(c.local.username, "bridge");
  EXPECT_EQ(c.local.password, "local-pw");  // CR LF stripped
  EXPECT_TRUE(c.local.clean_session);

  ASSERT_EQ(c.bridges.size(), 3u);
  EXPECT_EQ(c.bridges[0].topic, "telemetry/#");
  EXPECT_EQ(c.bridges[0].direction, Direction::kOut);  // the defaults
  EXPECT_EQ(c.bridges[0].qos, 1);
  EXPECT_EQ(c.bridges[0].local_prefix, "");
  EXPECT_EQ(c.bridges[0].remote_prefix, "");
  EXPECT_EQ(c.bridges[1].topic, "cmd/+");
  EXPECT_EQ(c.bridges[1].direction, Direction::kIn);
  EXPECT_EQ(c.bridges[1].qos, 2);
  EXPECT_EQ(c.bridges[1].local_prefix, "local/");
  EXPECT_EQ(c.bridges[1].remote_prefix, "cloud/");
  EXPECT_EQ(c.bridges[2].direction, Direction::kBoth);
  EXPECT_EQ(c.bridges[2].qos, 0);

  EXPECT_EQ(c.spool.path,
            (fs::path(dir.path().string()) / "spool/queue.db").string());  // relative to the file
  EXPECT_EQ(c.spool.max_messages, 10u);
  EXPECT_EQ(c.spool.max_bytes, 4096u);
  EXPECT_EQ(c.spool.overflow, Overflow::kDropNew);

  EXPECT_EQ(c.status.topic, "gw/status");
  EXPECT_EQ(c.status.interval_s, 15);
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_TRUE(c.log.at_trace);

  const auto session = to_session_config(c);
  EXPECT_EQ(session.pdp.context_id, 3);
  EXPECT_EQ(session.pdp.type, modem::session::PdpType::kIpv4v6);
  EXPECT_EQ(session.pdp.apn, "iot.example");
  EXPECT_EQ(session.pdp.username, "apnuser");
  EXPECT_EQ(session.pdp.password, "apnpass");
  EXPECT_EQ(session.host, "broker.example.com");
  EXPECT_EQ(session.port, 8883);
  EXPECT_EQ(session.client_id, "gw-{imei}-{iccid}");
  EXPECT_EQ(session.username, "gw");
  EXPECT_EQ(session.password, kSecret);
  EXPECT_EQ(session.keepalive_s, 300);
  EXPECT_TRUE(session.clean_session);
  EXPECT_EQ(session.protocol_version, 3);
  ASSERT_TRUE(session.will.has_value());
  EXPECT_EQ(session.will->topic, "gw/state");
  EXPECT_EQ(session.will->payload, "offline");
  EXPECT_EQ(session.will->qos, 1);
  EXPECT_TRUE(session.will->retain);
  const std::vector<std::pair<std::string, int>> subscriptions = {{"cloud/cmd/+", 2}, {"sync", 0}};
  EXPECT_EQ(session.subscriptions, subscriptions);
}

// [modem] model (issue 11): every family this release drives, by name; the old "ec200u" still
// means the EC200U; the families a later release adds are refused saying so.
TEST(Config, EveryModelThisReleaseDrivesIsAcceptedAndReachesTheSession) {
  const std::vector<std::pair<std::string, std::string>> cases = {{"auto", "auto"},
                                                                  {"quectel-ec200u", "quectel-ec200u"},
                                                                  {"quectel-ec2x", "quectel-ec2x"},
                                                                  {"quectel-ec200x", "quectel-ec200x"},
                                                                  {"ec200u", "quectel-ec200u"}};
  for (const auto& [value, session_model] : cases) {
    const auto result = parse_config(
        "[modem]\nmodel = \"" + value + "\"\n[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n", kSource);
    ASSERT_TRUE(result.errors.empty()) << value << ": " << errors_of(result).front();
    EXPECT_EQ(to_session_config(*result.config).model, session_model) << value;
  }
}

TEST(Config, AFamilyALaterReleaseDrivesIsRefusedSayingSo) {
  EXPECT_EQ(
      errors_of("[modem]\nmodel = \"quectel-bc20\"\n[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n"),
      std::vector<std::string>{
          "test.toml:2:9: modem.model: the Quectel BC20 (NB-IoT) is not supported by this "
          "release yet; use \"auto\" or name one this release drives"});
  EXPECT_EQ(
      errors_of("[modem]\nmodel = \"fibocom-mc66x\"\n[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n"),
      std::vector<std::string>{"test.toml:2:9: modem.model: Fibocom MC66x/MG66x modules are not supported by "
                               "this release yet; use \"auto\" or name one this release drives"});
}

TEST(Config, TheContextIdRangeIsTheNamedFamilysAndTheStrictestForAuto) {
  // seeds/001: pdpcid 1-16 on the EC2x; seeds/002: 1-15 on the EC200x (and the EC200U).
  auto config_with = [](const std::string& model) {
    return "[modem]\nmodel = \"" + model +
           "\"\n[cellular]\ncontext_id = 16\n[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n";
  };
  EXPECT_TRUE(errors_of(config_with("quectel-ec2x")).empty());
  for (const std::string model : {"quectel-ec200x", "auto"}) {
    EXPECT_EQ(errors_of(config_with(model)),
              std::vector<std::string>{"test.toml:4:14: cellular.context_id: must be from 1 to 15, not 16"})
        << model;
  }
}

TEST(Config, TheSmallestFileTakesTheDefaults) {
  const auto result = parse_config("[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n", kSource);
  ASSERT_TRUE(result.config.has_value());
  const DaemonConfig& c = *result.config;
  const DaemonConfig defaults;
  EXPECT_EQ(c.modem.port, "auto");
  EXPECT_EQ(c.modem.baud, 115200);
  EXPECT_EQ(c.upstream.port, 1883);
  EXPECT_EQ(c.upstream.client_id, "cellmqttd-{imei}");
  EXPECT_FALSE(c.upstream.username.has_value());
  EXPECT_FALSE(c.upstream.password.has_value());
  EXPECT_FALSE(c.upstream.will.has_value());
  EXPECT_EQ(c.local.host, "127.0.0.1");
  EXPECT_FALSE(c.local.clean_session);
  EXPECT_EQ(c.spool.path, defaults.spool.path);
  EXPECT_EQ(c.status.topic, "cellmqttd/status");
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(to_session_config(c).protocol_version, 4);
}

TEST(Config, TheReferenceFileLoadsWithoutErrors) {
  const auto path = fs::path(__FILE__).parent_path() / "../../../etc/cellmqttd.toml";
  const auto result = load_config(path.lexically_normal().string());
  EXPECT_EQ(errors_of(result), std::vector<std::string>{});
  ASSERT_TRUE(result.config.has_value());
  EXPECT_EQ(result.config->upstream.host, "broker.example.com");
  EXPECT_EQ(result.config->bridges.size(), 2u);
  // Its commented-out lines show the defaults: the file says what the structs say.
  const DaemonConfig defaults;
  EXPECT_EQ(result.config->spool.max_bytes, defaults.spool.max_bytes);
  EXPECT_EQ(result.config->upstream.client_id, defaults.upstream.client_id);
}

// ---- each kind of error, with its exact position ---------------------------------------------

struct ErrorCase {
  const char* name;
  const char* text;
  std::vector<std::string> errors;
};

// Every case is a whole file, so the positions can be read off it. Lines count from 1 at the
// first line of the string.
const ErrorCase kErrorCases[] = {
    {"SyntaxError",
     "[upstream]\nhost = \"broker.example.com\nport = 1883\n",
     {"test.toml:2:27: Error while parsing string: unescaped control characters other than TAB (U+0009) are "
      "explicitly prohibited"}},
    {"SyntaxErrorOnAPasswordLineHidesWhatItQuotes",
     "[upstream]\nhost = \"h\"\npassword = 123456789012345678901234\n",
     {"test.toml:3:36: Error while parsing decimal integer: '***' is not representable in 64 bits"}},
    {"DuplicateKeyIsASyntaxError",
     "[upstream]\nhost = \"a\"\nhost = \"b\"\n",
     {"test.toml:3:8: Error while parsing key-value pair: cannot redefine existing string 'host'"}},
    {"UnknownTopLevelSection",
     "[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n[spol]\npath = \"x\"\n",
     {"test.toml:5:2: spol: unknown key; did you mean \"spool\"?"}},
    {"UnknownKeyWithSuggestion",
     "[upstream]\nhost = \"h\"\nkeepalive = 60\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:3:1: upstream.keepalive: unknown key; did you mean \"keepalive_s\"?"}},
    {"UnknownKeyInBridge",
     "[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n[[bridge]]\ntopic = \"a\"\n  directon = \"in\"\n",
     {"test.toml:7:3: bridge[1].directon: unknown key; did you mean \"direction\"?"}},
    {"UnknownKeyInWill",
     "[upstream]\nhost = \"h\"\n[upstream.will]\ntopic = \"t\"\nkeepalive_s = 60\n[[bridge]]\ntopic = "
     "\"#\"\n",
     {"test.toml:5:1: upstream.will.keepalive_s: unknown key; \"keepalive_s\" belongs in [upstream], and "
      "every "
      "key after a table header belongs to that table"}},
    {"UnknownKeyWithoutAnyMatch",
     "[upstream]\nhost = \"h\"\nfrobnicate = true\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:3:1: upstream.frobnicate: unknown key"}},
    {"BridgeBelowAnotherTable",
     "[upstream]\nhost = \"h\"\nbridge = [{topic = \"#\"}]\n",
     {"test.toml:3:1: upstream.bridge: unknown key; \"bridge\" belongs at the top level, above the first "
      "table "
      "header",
      "test.toml: bridge: at least one [[bridge]] is required: without a [[bridge]] nothing is forwarded in "
      "either direction"}},
    {"SuggestionIgnoresCase",
     "[modem]\nmodel = \"EC200U\"\n[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:2:9: modem.model: must be one of \"auto\", \"quectel-ec200u\", \"quectel-ec2x\", "
      "\"quectel-ec200x\", \"ec200u\", not \"EC200U\"; did you mean "
      "\"ec200u\"?"}},
    {"WrongType",
     "[upstream]\nhost = \"h\"\nport = \"1883\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:3:8: upstream.port: expected an integer, got a string"}},
    {"WrongTypeFloat",
     "[upstream]\nhost = \"h\"\nkeepalive_s = 1.5\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:3:15: upstream.keepalive_s: expected an integer, got a floating-point number"}},
    {"WrongTypeBoolean",
     "[upstream]\nhost = \"h\"\n[local]\nclean_session = \"yes\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:4:17: local.clean_session: expected a boolean (true or false), got a string"}},
    {"SectionThatIsNotATable",
     "modem = 5\n[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:1:9: modem: expected a table ([modem]), got an integer"}},
    {"BridgeThatIsATable",
     "[upstream]\nhost = \"h\"\n[bridge]\ntopic = \"#\"\n",
     {"test.toml:3:1: bridge: expected an array of tables (one [[bridge]] header per rule), got a table"}},
    {"OutOfRange",
     "[upstream]\nhost = \"h\"\nport = 70000\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:3:8: upstream.port: must be from 1 to 65535, not 70000"}},
    {"OutOfRangeInBridge",
     "[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\nqos = 3\n",
     {"test.toml:5:7: bridge[0].qos: must be from 0 to 2, not 3"}},
    {"NotPositive",
     "[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n[spool]\nmax_bytes = 0\n",
     {"test.toml:6:13: spool.max_bytes: must be at least 1, not 0"}},
    {"NotABaudRate",
     "[modem]\nbaud = 100000\n[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:2:8: modem.baud: must be one of the serial rates 9600, 19200, 38400, 57600, 115200, 230400, "
      "460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, "
      "4000000, "
      "not 100000"}},
    {"PortThatIsNotAPath",
     "[modem]\nport = \"ttyUSB2\"\n[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:2:8: modem.port: must be \"auto\" or a device path such as /dev/ttyUSB2 or "
      "/dev/serial/by-id/...; did you mean \"/dev/ttyUSB2\"?"}},
    {"BadEnumValue",
     "[cellular]\npdp_type = \"ipv5\"\n[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:2:12: cellular.pdp_type: must be one of \"ipv4\", \"ipv6\", \"ipv4v6\", not \"ipv5\"; did "
      "you "
      "mean \"ipv4\"?"}},
    {"BadDirection",
     "[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\ndirection = \"upstream\"\n",
     {"test.toml:5:13: bridge[0].direction: must be one of \"out\", \"in\", \"both\", not \"upstream\""}},
    {"MissingHost",
     "[upstream]\nport = 1883\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:1:1: upstream.host: is required: the upstream broker's host name or IP address"}},
    {"MissingUpstreamSection",
     "[[bridge]]\ntopic = \"#\"\n",
     {"test.toml: upstream.host: is required: the upstream broker's host name or IP address"}},
    {"MissingBridge",
     "[upstream]\nhost = \"h\"\n",
     {"test.toml: bridge: at least one [[bridge]] is required: without a [[bridge]] nothing is forwarded in "
      "either direction"}},
    {"EmptyBridgeArray",
     "bridge = []\n[upstream]\nhost = \"h\"\n",
     {"test.toml:1:10: bridge: is empty; at least one [[bridge]] is required: without a [[bridge]] nothing "
      "is "
      "forwarded in either direction"}},
    {"BridgeThatIsNotATable",
     "bridge = [{topic = \"#\"}, 7]\n[upstream]\nhost = \"h\"\n",
     {"test.toml:1:26: bridge[1]: expected a table ([[bridge]]), got an integer"}},
    {"EmptyBridgeTopic",
     "[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"\"\n",
     {"test.toml:4:9: bridge[0].topic: is empty; give the topic pattern to bridge (\"#\" for everything)"}},
    {"MissingBridgeTopic",
     "[upstream]\nhost = \"h\"\n\n[[bridge]]\ndirection = \"in\"\n",
     {"test.toml:4:1: bridge[0].topic: is required: the topic pattern to bridge (with + and # as in MQTT)"}},
    {"MissingWillTopic",
     "[upstream]\nhost = \"h\"\n[upstream.will]\npayload = \"bye\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:3:1: upstream.will.topic: is required: the topic the broker publishes the will message to"}},
    {"PasswordAndPasswordFile",
     "[upstream]\nhost = \"h\"\npassword = \"s3cr3t-Passw0rd\"\npassword_file = \"upstream.pw\"\n[[bridge]]\n"
     "topic = \"#\"\n",
     {"test.toml:4:1: upstream.password_file: is set together with password; keep only one (password_file "
      "keeps the secret out of this file)"}},
    {"UnreadablePasswordFile",
     "[upstream]\nhost = \"h\"\n[cellular]\n  password_file = \"missing.pw\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:4:3: cellular.password_file: cannot read /nonexistent/missing.pw: No such file or "
      "directory"}},
    {"QuoteInPassword",
     "[upstream]\nhost = \"h\"\npassword = \"s3cr3t-Passw0rd\\\"\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:3:1: upstream.password: the password contains a double quote, which the module cannot take "
      "inside a quoted AT argument"}},
    {"QuoteInClientId",
     "[upstream]\nhost = \"h\"\nclient_id = 'gw\"1'\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:3:1: upstream.client_id: contains a double quote, which the module cannot take inside a "
      "quoted AT argument"}},
    {"ClientIdTooLongOnceFilledIn",
     "[upstream]\nhost = \"h\"\nclient_id = "
     "\"gateway-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-"
     "0123456789-0123456789-0123456789-{iccid}\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:3:1: upstream.client_id: is longer than 128 bytes once {imei}/{iccid} are filled in, which "
      "the "
      "module cannot take inside a quoted AT argument"}},
    {"UnknownPlaceholderInClientId",
     "[upstream]\nhost = \"h\"\nclient_id = \"gw-{imsi}\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:3:13: upstream.client_id: has the unknown placeholder {imsi}; only {imei} and {iccid} are "
      "filled in"}},
    {"BridgeTopicWithAQuote",
     "[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = 'a\"b'\n",
     {"test.toml:4:1: bridge[0].topic: \"a\\\"b\" contains a double quote, which the module cannot take "
      "inside "
      "a quoted AT argument"}},
    {"InvalidFilter",
     "[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"a/#/b\"\n",
     {"test.toml:4:1: bridge[0].topic: \"a/#/b\" has a '#' that is not the whole last level (MQTT allows '#' "
      "only as the whole last level, '+' only as a whole level)"}},
    {"PrefixWithoutSlashMakesAnInvalidFilter",
     "[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\ndirection = \"in\"\nremote_prefix = \"cloud\"\n",
     {"test.toml:6:1: bridge[0].remote_prefix: remote_prefix + topic gives the upstream filter \"cloud#\": "
      "it has a '#' that is not the whole last level (MQTT allows '#' only as the whole last level, '+' "
      "only as a whole level) (does the prefix need a trailing '/'?)"}},
    {"LocalPrefixWithoutSlash",
     "[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"+/x\"\nlocal_prefix = \"site\"\n",
     {"test.toml:5:1: bridge[0].local_prefix: local_prefix + topic gives the local filter \"site+/x\": it "
      "has a '+' that is not a whole level (MQTT allows '#' only as the whole last level, '+' only as a "
      "whole "
      "level) (does the prefix need a trailing '/'?)"}},
    {"WildcardInPrefix",
     "[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"x\"\nremote_prefix = \"a/+/\"\n",
     {"test.toml:5:1: bridge[0].remote_prefix: \"a/+/\" contains a wildcard ('+' or '#'); a prefix is put in "
      "front of real topic names and cannot have one"}},
    {"WillTopicWithAWildcard",
     "[upstream]\nhost = \"h\"\n[upstream.will]\ntopic = \"gw/+/state\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:4:1: upstream.will.topic: contains a wildcard ('+' or '#'); MQTT allows wildcards only in "
      "subscriptions"}},
    // A device path never has a control character; this one would also reach log lines and
    // systemd's STATUS=, where a newline starts an assignment of its own.
    {"PortWithANewline",
     "[modem]\nport = \"/dev/ttyUSB2\\nREADY=1\"\n[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:2:8: modem.port: must be \"auto\" or a device path such as /dev/ttyUSB2 or "
      "/dev/serial/by-id/...; \"/dev/ttyUSB2\\nREADY=1\" contains a line feed (U+000A), which no device path "
      "has"}},
    {"PortWithAnEscapeSequence",
     "[modem]\nport = \"/dev/ttyUSB2\\u001b[2J\"\n[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:2:8: modem.port: must be \"auto\" or a device path such as /dev/ttyUSB2 or "
      "/dev/serial/by-id/...; \"/dev/ttyUSB2\\u001B[2J\" contains an escape (U+001B), which no device path "
      "has"}},
    {"PortWithAC1Control",
     "[modem]\nport = \"/dev/\\u009b31mttyUSB2\"\n[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:2:8: modem.port: must be \"auto\" or a device path such as /dev/ttyUSB2 or "
      "/dev/serial/by-id/...; \"/dev/\\u009B31mttyUSB2\" contains the control character U+009B, which no "
      "device path has"}},
    {"PortWithoutAPath",
     "[modem]\nport = \"ttyUSB2\"\n[upstream]\nhost = \"h\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:2:8: modem.port: must be \"auto\" or a device path such as /dev/ttyUSB2 or "
      "/dev/serial/by-id/...; did you mean \"/dev/ttyUSB2\"?"}},
    {"HostTooLong",
     "[upstream]\nhost = "
     "\"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
     "hhhhhhhhhhhhh\"\n[[bridge]]\ntopic = \"#\"\n",
     {"test.toml:2:1: upstream.host: is longer than 100 bytes, which the module cannot take inside a quoted "
      "AT "
      "argument"}},
};

// So that a failure names the case rather than dumping its bytes.
void PrintTo(const ErrorCase& c, std::ostream* os) {
  *os << c.name;
}

class ConfigErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrors, AreReportedWithTheirPositionAndKey) {
  const ErrorCase& c = GetParam();
  const auto result = parse_config(c.text, kSource, "/nonexistent");
  EXPECT_EQ(errors_of(result), c.errors);
  EXPECT_FALSE(result.config.has_value());
  for (const auto& line : errors_of(result))
    EXPECT_EQ(line.find(kSecret), std::string::npos) << line;
}

INSTANTIATE_TEST_SUITE_P(Config, ConfigErrors, ::testing::ValuesIn(kErrorCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Config, EveryErrorIsReportedInTheOrderOfTheFile) {
  const auto errors = errors_of(R"([modem]
model = "ec21"

[upstream]
host = "h"
port = 0
qos = 1

[upstream.will]
topic = "gw/#"

[[bridge]]
topic = "a/#/b"
direction = "sideways"

[log]
level = "verbose"
)");
  const std::vector<std::string> expected = {
      "test.toml:2:9: modem.model: must be one of \"auto\", \"quectel-ec200u\", \"quectel-ec2x\", "
      "\"quectel-ec200x\", \"ec200u\", not \"ec21\"",
      "test.toml:6:8: upstream.port: must be from 1 to 65535, not 0",
      "test.toml:7:1: upstream.qos: unknown key; \"qos\" belongs in [upstream.will] or [[bridge]], and every "
      "key after a table header belongs to that table",
      "test.toml:10:1: upstream.will.topic: contains a wildcard ('+' or '#'); MQTT allows wildcards only in "
      "subscriptions",
      "test.toml:13:1: bridge[0].topic: \"a/#/b\" has a '#' that is not the whole last level (MQTT allows "
      "'#' only "
      "as the whole last level, '+' only as a whole level)",
      "test.toml:14:13: bridge[0].direction: must be one of \"out\", \"in\", \"both\", not \"sideways\"",
      "test.toml:17:9: log.level: must be one of \"trace\", \"debug\", \"info\", \"warn\", \"error\", not "
      "\"verbose\"",
  };
  EXPECT_EQ(errors, expected);
}

// ---- password files ---------------------------------------------------------------------------

TEST(Config, PasswordFileIsRelativeToTheConfigFileAndLosesOneNewline) {
  TempDir dir;
  write_secret(dir, "upstream.pw", std::string(kSecret) + "\r\n");
  write_secret(dir, "cellular.pw", std::string(kSecret) + "\n");
  dir.write("cellmqttd.toml",
            "[cellular]\npassword_file = \"cellular.pw\"\n"
            "[upstream]\nhost = \"h\"\npassword_file = \"upstream.pw\"\n"
            "[[bridge]]\ntopic = \"#\"\n");
  const auto result = load_config((fs::path(dir.path().string()) / "cellmqttd.toml").string());
  ASSERT_TRUE(result.config.has_value()) << errors_of(result).front();
  EXPECT_EQ(result.config->upstream.password, kSecret);
  EXPECT_EQ(result.config->cellular.password, kSecret);
}

TEST(Config, PasswordFileAbsolutePath) {
  TempDir dir;
  const std::string file = write_secret(dir, "pw", kSecret);  // no newline at all
  const auto result =
      parse_config("[upstream]\nhost = \"h\"\npassword_file = \"" + file + "\"\n[[bridge]]\ntopic = \"#\"\n",
                   kSource, "/elsewhere");
  ASSERT_TRUE(result.config.has_value()) << errors_of(result).front();
  EXPECT_EQ(result.config->upstream.password, kSecret);
}

TEST(Config, OnlyOneNewlineIsStrippedAndTheSecretNeverAppearsInAnError) {
  TempDir dir;
  write_secret(dir, "two-newlines.pw", std::string(kSecret) + "\n\n");
  write_secret(dir, "quote.pw", std::string(kSecret) + "\"x\n");
  write_secret(dir, "empty.pw", "\n");
  const std::string text =
      "[cellular]\npassword_file = \"quote.pw\"\n"
      "[upstream]\nhost = \"h\"\npassword_file = \"two-newlines.pw\"\n"
      "[local]\npassword_file = \"empty.pw\"\n"
      "[[bridge]]\ntopic = \"#\"\n";
  const std::string quote = (fs::path(dir.path().string()) / "quote.pw").string();
  const std::string two = (fs::path(dir.path().string()) / "two-newlines.pw").string();
  const std::string empty = (fs::path(dir.path().string()) / "empty.pw").string();
  const auto errors = errors_of(text, dir.path().string());
  const std::vector<std::string> expected = {
      "test.toml:2:1: cellular.password_file: the password in " + quote +
          " contains a double quote, which the module cannot take inside a quoted AT argument",
      "test.toml:5:1: upstream.password_file: the password in " + two +
          " contains a line feed, which the module cannot take inside a quoted AT argument (only one newline "
          "at the end of the file is ignored)",
      "test.toml:7:1: local.password_file: " + empty +
          " is empty; put the password in it, or remove password_file",
  };
  EXPECT_EQ(errors, expected);
  for (const auto& line : errors)
    EXPECT_EQ(line.find(kSecret), std::string::npos) << line;
}

// Like ssh with a private key: a password file that anyone but its owner may read (or write) is
// refused, with the command that fixes it. The check is on the mode of the file that was read.
TEST(Config, APasswordFileOthersCanGetAtIsRefusedWithTheCommandThatFixesIt) {
  TempDir dir;
  const std::string path = write_secret(dir, "upstream.pw", kSecret);
  const std::string text =
      "[upstream]\nhost = \"h\"\npassword_file = \"upstream.pw\"\n[[bridge]]\ntopic = \"#\"\n";
  const struct {
    fs::perms mode;
    const char* octal;
    const char* who;
  } too_open[] = {
      {fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read, "0640", "its group"},
      {fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read,
       "0644", "its group and everyone else"},
      {fs::perms::owner_read | fs::perms::others_read, "0404", "everyone else"},
      {fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_write, "0620", "its group"},
  };
  for (const auto& c : too_open) {
    fs::permissions(path, c.mode, fs::perm_options::replace);
    const auto result = parse_config(text, kSource, dir.path().string());
    EXPECT_FALSE(result.config.has_value()) << c.octal;
    EXPECT_EQ(
        errors_of(result),
        std::vector<std::string>{"test.toml:3:1: upstream.password_file: " + path + " has mode " + c.octal +
                                 ", so " + c.who +
                                 " can get at the password; a password file must be readable by its owner "
                                 "only (as ssh requires of a private key): chmod 600 " +
                                 path +
                                 " (the packaged service runs as user cellmqttd, which must own it: sudo "
                                 "chown cellmqttd " +
                                 path + ")"});
  }
  for (const auto mode : {fs::perms::owner_read | fs::perms::owner_write, fs::perms::owner_read}) {
    fs::permissions(path, mode, fs::perm_options::replace);
    const auto result = parse_config(text, kSource, dir.path().string());
    ASSERT_TRUE(result.config.has_value()) << errors_of(result).front();
    EXPECT_EQ(result.config->upstream.password, kSecret);
  }
}

TEST(Config, ADirectoryIsNotAPasswordFile) {
  TempDir dir;
  const auto errors = errors_of(
      "[upstream]\nhost = \"h\"\npassword_file = \".\"\n[[bridge]]\ntopic = \"#\"\n", dir.path().string());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "test.toml:3:1: upstream.password_file: cannot read " + dir.path().string() + ": Is a directory");
}

// ---- the file itself ----------------------------------------------------------------------------

TEST(Config, AMissingFileIsOneErrorAboutTheFile) {
  const auto result = load_config("/nonexistent/cellmqttd.toml");
  EXPECT_EQ(errors_of(result), std::vector<std::string>{"/nonexistent/cellmqttd.toml: cannot read the "
                                                        "configuration: No such file or directory"});
}

TEST(Config, ErrorToStringOmitsTheMissingParts) {
  EXPECT_EQ((ConfigError{"f.toml", 3, 7, "upstream.port", "is wrong"}).to_string(),
            "f.toml:3:7: upstream.port: is wrong");
  EXPECT_EQ((ConfigError{"f.toml", 0, 0, "bridge", "is missing"}).to_string(), "f.toml: bridge: is missing");
}

// ---- to_session_config ------------------------------------------------------------------------

TEST(Config, SubscriptionsAreTheRemoteSideOfInAndBothRules) {
  DaemonConfig config;
  config.upstream.host = "h";
  config.bridges = {
      {"telemetry/#", Direction::kOut, 1, "", "gw/"},  // out: publishes, never subscribes
      {"cmd/#", Direction::kIn, 1, "local/", "gw/"},
      {"sync/+", Direction::kBoth, 0, "", ""},
      {"cmd/#", Direction::kIn, 2, "other/", "gw/"},  // the same filter: once, with the first rule's
                                                      // QoS (first match wins in inbound() too)
      {"sync/+", Direction::kIn, 0, "", ""},
      {"cmd/#", Direction::kIn, 0, "", "gw/"},
  };
  const std::vector<std::pair<std::string, int>> expected = {{"gw/cmd/#", 1}, {"sync/+", 0}};
  EXPECT_EQ(to_session_config(config).subscriptions, expected);
}

TEST(Config, PdpTypeAndProtocolMapToTheModuleNumbers) {
  DaemonConfig config;
  for (const auto& [name, type] :
       {std::pair<std::string, modem::session::PdpType>{"ipv4", modem::session::PdpType::kIpv4},
        {"ipv6", modem::session::PdpType::kIpv6},
        {"ipv4v6", modem::session::PdpType::kIpv4v6}}) {
    config.cellular.pdp_type = name;
    EXPECT_EQ(to_session_config(config).pdp.type, type) << name;
  }
  config.upstream.protocol = "3.1.1";
  EXPECT_EQ(to_session_config(config).protocol_version, 4);
  config.upstream.protocol = "3.1";
  EXPECT_EQ(to_session_config(config).protocol_version, 3);
  EXPECT_FALSE(to_session_config(config).will.has_value());
}

}  // namespace
}  // namespace cellmqttd
