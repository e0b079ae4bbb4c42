// [upstream.tls] and [cellular] ntp_server (issue 12): every rule of the table, the files it names
// read and checked with their errors at the key that names them, systemd credentials, the key's
// mode, and what reaches the session. Certificates come from test_pki, made fresh for every run.
#include "config_tls.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "support/temp_dir.hpp"
#include "support/test_pki.hpp"

namespace cellmqttd {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using test_support::CertificateOptions;
using test_support::TempDir;
using test_support::TestCa;

constexpr const char* kSource = "test.toml";

CertificateOptions options(const std::string& common_name, bool client = false,
                           std::chrono::seconds not_before = -hours(1),
                           std::chrono::seconds not_after = hours(24 * 30)) {
  CertificateOptions o;
  o.common_name = common_name;
  o.client = client;
  o.not_before = not_before;
  o.not_after = not_after;
  return o;
}

std::vector<std::string> lines_of(const std::vector<ConfigError>& errors) {
  std::vector<std::string> lines;
  for (const auto& error : errors)
    lines.push_back(error.to_string());
  return lines;
}

std::string crlf(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    if (ch == '\n') out += '\r';
    out += ch;
  }
  return out;
}

// A configuration whose [upstream.tls] table starts on line 5 and whose keys start on line 6.
std::string with_tls(const std::string& tls_lines) {
  return "[[bridge]]\ntopic = \"#\"\n[upstream]\nhost = \"broker.example.com\"\n[upstream.tls]\n" + tls_lines;
}

// A CA, a client credential it issued, and the three files in a temp dir: ca.pem and client.crt
// world-readable as certificates are, client.key as the package would have it (root:cellmqttd 0640).
struct Pki {
  TempDir dir;
  TestCa ca{"Broker Root"};
  test_support::Credential client = ca.issue(options("gateway-0001", true));

  Pki() {
    test_support::write_file(dir.path() / "ca.pem", ca.cert_pem(), 0644);
    test_support::write_file(dir.path() / "client.crt", client.cert_pem, 0644);
    test_support::write_file(dir.path() / "client.key", client.key_pem, 0640);
  }
  std::string path(const std::string& name) const { return (dir.path() / name).string(); }
  ConfigResult parse(const std::string& text) const {
    return parse_config(text, kSource, dir.path().string());
  }
  std::vector<std::string> errors(const std::string& text) const { return lines_of(parse(text).errors); }
};

// Sets CREDENTIALS_DIRECTORY (or unsets it, with nullopt) for one test, as systemd would for a
// unit with LoadCredential=, and puts back what was there.
class CredentialsDirectory {
 public:
  explicit CredentialsDirectory(const std::optional<std::string>& value) {
    if (const char* old = ::getenv("CREDENTIALS_DIRECTORY")) old_ = old;
    if (value) {
      ::setenv("CREDENTIALS_DIRECTORY", value->c_str(), 1);
    } else {
      ::unsetenv("CREDENTIALS_DIRECTORY");
    }
  }
  ~CredentialsDirectory() {
    if (old_) {
      ::setenv("CREDENTIALS_DIRECTORY", old_->c_str(), 1);
    } else {
      ::unsetenv("CREDENTIALS_DIRECTORY");
    }
  }
  CredentialsDirectory(const CredentialsDirectory&) = delete;
  CredentialsDirectory& operator=(const CredentialsDirectory&) = delete;

 private:
  std::optional<std::string> old_;
};

// ---- a valid table ------------------------------------------------------------------------------

TEST(ConfigTls, MutualTlsReachesTheSessionAsLfPemWithItsWindow) {
  Pki pki;
  // Written with CR LF, as files from a Windows machine are: the module gets them with LF.
  test_support::write_file(pki.dir.path() / "ca.pem", crlf(pki.ca.cert_pem()), 0644);
  test_support::write_file(pki.dir.path() / "client.crt", crlf(pki.client.cert_pem), 0644);
  test_support::write_file(pki.dir.path() / "client.key", crlf(pki.client.key_pem), 0600);
  const auto result = pki.parse(
      "[cellular]\nntp_server = \"ntp.example.net\"\n" +
      with_tls("enabled = true\nca_file = \"ca.pem\"\ncert_file = \"client.crt\"\nkey_file = \"client.key\"\n"
               "verify = \"peer\"\nsni = false\nversion = \"any\"\n"));
  ASSERT_TRUE(result.config.has_value()) << lines_of(result.errors).front();
  EXPECT_TRUE(result.warnings.empty());
  const DaemonConfig& c = *result.config;
  EXPECT_EQ(c.upstream.port, 8883);  // TLS on, no port given
  EXPECT_EQ(c.upstream.tls.ca_file, "ca.pem");

  const auto session = to_session_config(c);
  EXPECT_TRUE(session.tls.enabled);
  EXPECT_TRUE(session.tls.verify_peer);
  EXPECT_FALSE(session.tls.sni);
  EXPECT_EQ(session.tls.version, modem::session::TlsSettings::Version::kAny);
  EXPECT_EQ(session.tls.ca_pem, pki.ca.cert_pem());
  EXPECT_EQ(session.tls.cert_pem, pki.client.cert_pem);
  EXPECT_EQ(session.tls.key_pem, pki.client.key_pem);
  EXPECT_EQ(session.tls.ntp_server, "ntp.example.net");
  EXPECT_EQ(session.port, 8883);
  // The CA (test_pki: from a day ago) starts before the client certificate (an hour ago); the
  // client certificate (30 days) ends before the CA (a year).
  ASSERT_TRUE(session.tls.valid_from && session.tls.valid_until);
  EXPECT_EQ(session.tls.valid_from_file, pki.path("client.crt"));
  EXPECT_EQ(session.tls.valid_until_file, pki.path("client.crt"));
  const auto now = std::chrono::system_clock::now();
  EXPECT_LT(*session.tls.valid_from, now);
  EXPECT_GT(*session.tls.valid_until, now + hours(24 * 29));
  EXPECT_LT(*session.tls.valid_until, now + hours(24 * 31));
}

TEST(ConfigTls, TheDefaultsAreThePinnedOnes) {
  Pki pki;
  const auto result = pki.parse(with_tls("enabled = true\nca_file = \"ca.pem\"\n"));
  ASSERT_TRUE(result.config.has_value()) << lines_of(result.errors).front();
  const auto session = to_session_config(*result.config);
  EXPECT_TRUE(session.tls.verify_peer);
  EXPECT_TRUE(session.tls.sni);
  EXPECT_EQ(session.tls.version, modem::session::TlsSettings::Version::kTls12);
  EXPECT_EQ(session.tls.ntp_server, "pool.ntp.org");
  EXPECT_TRUE(session.tls.cert_pem.empty());
  EXPECT_TRUE(session.tls.key_pem.empty());
  EXPECT_EQ(session.tls.valid_from_file, pki.path("ca.pem"));  // the only file
  EXPECT_EQ(session.tls.valid_until_file, pki.path("ca.pem"));

  const DaemonConfig defaults;
  EXPECT_FALSE(defaults.upstream.tls.enabled);
  EXPECT_EQ(defaults.cellular.ntp_server, "pool.ntp.org");
  EXPECT_FALSE(to_session_config(defaults).tls.enabled);
}

TEST(ConfigTls, AGivenPortIsKeptAndWithoutTlsThePortStays1883) {
  Pki pki;
  const auto given = pki.parse(
      "[[bridge]]\ntopic = \"#\"\n[upstream]\nhost = \"h\"\nport = 443\n[upstream.tls]\nenabled = true\n"
      "ca_file = \"ca.pem\"\n");
  ASSERT_TRUE(given.config.has_value()) << lines_of(given.errors).front();
  EXPECT_EQ(given.config->upstream.port, 443);
  const auto off = pki.parse(with_tls("enabled = false\n"));
  ASSERT_TRUE(off.config.has_value());
  EXPECT_EQ(off.config->upstream.port, 1883);
}

TEST(ConfigTls, AnAbsolutePathIsTakenAsItIs) {
  Pki pki;
  const auto result = parse_config(with_tls("enabled = true\nca_file = \"" + pki.path("ca.pem") + "\"\n"),
                                   kSource, "/elsewhere");
  ASSERT_TRUE(result.config.has_value()) << lines_of(result.errors).front();
  EXPECT_EQ(to_session_config(*result.config).tls.ca_pem, pki.ca.cert_pem());
}

// ---- switched off ---------------------------------------------------------------------------------

TEST(ConfigTls, SwitchedOffOnlyTheKeysAreCheckedAndNoFileIsRead) {
  Pki pki;
  // Files that do not exist, a certificate without its key, verify = "peer" without a CA: all
  // fine while TLS is off.
  const auto result = pki.parse(
      with_tls("enabled = false\ncert_file = \"missing.crt\"\nca_file = \"\"\nverify = \"peer\"\n"));
  ASSERT_TRUE(result.config.has_value()) << lines_of(result.errors).front();
  EXPECT_TRUE(result.warnings.empty());
  const auto session = to_session_config(*result.config);
  EXPECT_FALSE(session.tls.enabled);
  EXPECT_TRUE(session.tls.cert_pem.empty());
  EXPECT_EQ(session.port, 1883);

  // Names and types still are.
  EXPECT_EQ(pki.errors(with_tls("enabled = false\ncafile = \"ca.pem\"\nsni = \"yes\"\n")),
            (std::vector<std::string>{
                "test.toml:7:1: upstream.tls.cafile: unknown key; did you mean \"ca_file\"?",
                "test.toml:8:7: upstream.tls.sni: expected a boolean (true or false), got a string",
            }));
}

// ---- the rules between the keys, each at its position ------------------------------------------

struct RuleCase {
  const char* name;
  const char* tls_lines;  // from line 6
  std::vector<std::string> errors;
};

const RuleCase kRuleCases[] = {
    {"CaFileMissingWithVerifyPeer",
     "enabled = true\n",
     {"test.toml:5:1: upstream.tls.ca_file: is required when verify = \"peer\": the PEM file of the CA the "
      "broker's certificate chains to (the module has no CA store of its own)"}},
    {"CaFileEmptyWithVerifyPeer",
     "enabled = true\nca_file = \"\"\n",
     {"test.toml:7:11: upstream.tls.ca_file: is empty; when verify = \"peer\": the PEM file of the CA the "
      "broker's certificate chains to (the module has no CA store of its own)"}},
    {"CertFileWithoutKeyFile",
     "enabled = true\nca_file = \"ca.pem\"\ncert_file = \"client.crt\"\n",
     {"test.toml:5:1: upstream.tls.key_file: is required with cert_file: the PEM private key of the client "
      "certificate"}},
    {"KeyFileWithoutCertFile",
     "enabled = true\nca_file = \"ca.pem\"\nkey_file = \"client.key\"\n",
     {"test.toml:5:1: upstream.tls.cert_file: is required with key_file: the PEM client certificate the key "
      "belongs to"}},
    {"ClientCertificateWithVerifyNone",
     "enabled = true\nverify = \"none\"\ncert_file = \"client.crt\"\nkey_file = \"client.key\"\n",
     {"test.toml:8:1: upstream.tls.cert_file: cannot be used with verify = \"none\": the modules present a "
      "client certificate only while they verify the server; set verify = \"peer\" and ca_file"}},
    {"UnknownVerify",
     "enabled = true\nca_file = \"ca.pem\"\nverify = \"full\"\n",
     {"test.toml:8:10: upstream.tls.verify: must be one of \"peer\", \"none\", not \"full\""}},
    {"UnknownVersion",
     "enabled = true\nca_file = \"ca.pem\"\nversion = \"1.3\"\n",
     {"test.toml:8:11: upstream.tls.version: must be one of \"1.2\", \"any\", not \"1.3\"; did you mean "
      "\"1.2\"?"}},
    {"UnknownKey",
     "enabled = true\nca_file = \"ca.pem\"\nalpn = \"x-amzn-mqtt-ca\"\n",
     {"test.toml:8:1: upstream.tls.alpn: unknown key"}},
    {"EnabledNotABoolean",
     "enabled = 1\n",
     {"test.toml:6:11: upstream.tls.enabled: expected a boolean (true or false), got an integer"}},
};

void PrintTo(const RuleCase& c, std::ostream* os) {
  *os << c.name;
}

class ConfigTlsRules : public ::testing::TestWithParam<RuleCase> {};

TEST_P(ConfigTlsRules, AreReportedAtTheirPosition) {
  const RuleCase& c = GetParam();
  Pki pki;
  const auto result = pki.parse(with_tls(c.tls_lines));
  EXPECT_EQ(lines_of(result.errors), c.errors);
  EXPECT_FALSE(result.config.has_value());
}

INSTANTIATE_TEST_SUITE_P(ConfigTls, ConfigTlsRules, ::testing::ValuesIn(kRuleCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ConfigTls, TlsThatIsNotATableIsRefused) {
  Pki pki;
  EXPECT_EQ(pki.errors("[[bridge]]\ntopic = \"#\"\n[upstream]\nhost = \"h\"\ntls = 1\n"),
            std::vector<std::string>{"test.toml:5:7: upstream.tls: expected a table ([upstream.tls]), got an "
                                     "integer"});
}

// ---- verify = "none" --------------------------------------------------------------------------------

TEST(ConfigTls, VerifyNoneIsAWarningAndItsCaFileIsNotRead) {
  Pki pki;
  const auto result = pki.parse(with_tls("enabled = true\nverify = \"none\"\nca_file = \"missing.pem\"\n"));
  ASSERT_TRUE(result.config.has_value()) << lines_of(result.errors).front();
  EXPECT_EQ(
      lines_of(result.warnings),
      (std::vector<std::string>{
          "test.toml:7:10: warning: upstream.tls.verify: is \"none\": the server is not authenticated: "
          "anyone on the path can pose as it",
          "test.toml:8:1: warning: upstream.tls.ca_file: is not used with verify = \"none\", so it is not "
          "read",
      }));
  const auto session = to_session_config(*result.config);
  EXPECT_TRUE(session.tls.enabled);
  EXPECT_FALSE(session.tls.verify_peer);
  EXPECT_TRUE(session.tls.ca_pem.empty());
  EXPECT_FALSE(session.tls.valid_until.has_value());  // no certificate at all
}

// ---- the files ----------------------------------------------------------------------------------------

TEST(ConfigTls, AFileThatCannotBeReadIsNamedAtItsKey) {
  Pki pki;
  EXPECT_EQ(pki.errors(with_tls("enabled = true\nca_file = \"aws/AmazonRootCA1.pem\"\n")),
            std::vector<std::string>{"test.toml:7:1: upstream.tls.ca_file: cannot read " +
                                     pki.path("aws/AmazonRootCA1.pem") + ": No such file or directory"});
}

TEST(ConfigTls, EveryFileProblemIsOneErrorAtItsKey) {
  Pki pki;
  const auto other = pki.ca.issue(options("someone else", true));
  test_support::write_file(pki.dir.path() / "expired-ca.pem",
                           pki.ca.issue(options("Old Root", false, -hours(48), -hours(24))).cert_pem, 0644);
  test_support::write_file(pki.dir.path() / "other.key", other.key_pem, 0600);
  test_support::write_file(pki.dir.path() / "not-a-cert.pem", "hello\n", 0644);
  const std::string text = with_tls(
      "enabled = true\nca_file = \"expired-ca.pem\"\ncert_file = \"not-a-cert.pem\"\nkey_file = "
      "\"other.key\"\n");
  const auto errors = pki.errors(text);
  ASSERT_EQ(errors.size(), 2u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0].rfind("test.toml:7:1: upstream.tls.ca_file: " + pki.path("expired-ca.pem") +
                                ": the certificate \"Old Root\" expired on ",
                            0),
            0u)
      << errors[0];
  EXPECT_NE(errors[0].find(" UTC (the host clock says "), std::string::npos) << errors[0];
  EXPECT_EQ(errors[1],
            "test.toml:8:1: upstream.tls.cert_file: " + pki.path("not-a-cert.pem") +
                " holds no PEM certificate (no \"-----BEGIN CERTIFICATE-----\" line); if it is a DER "
                "file, convert it: openssl x509 -inform der -in " +
                pki.path("not-a-cert.pem") + " -out <new file>");
}

TEST(ConfigTls, AKeyOfAnotherCertificateIsRefusedAtKeyFile) {
  Pki pki;
  test_support::write_file(pki.dir.path() / "other.key", test_support::make_private_key_pem(), 0600);
  EXPECT_EQ(pki.errors(with_tls("enabled = true\nca_file = \"ca.pem\"\ncert_file = \"client.crt\"\n"
                                "key_file = \"other.key\"\n")),
            std::vector<std::string>{"test.toml:9:1: upstream.tls.key_file: " + pki.path("other.key") +
                                     " is not the private key of the certificate \"gateway-0001\" in " +
                                     pki.path("client.crt") +
                                     "; cert_file and key_file must be the two halves of one credential"});
}

TEST(ConfigTls, ACertificateNotValidYetIsRefused) {
  Pki pki;
  test_support::write_file(pki.dir.path() / "future.crt",
                           pki.ca.issue(options("gateway-0002", true, hours(24), hours(48))).cert_pem, 0644);
  const auto errors =
      pki.errors(with_tls("enabled = true\nca_file = \"ca.pem\"\ncert_file = \"future.crt\"\n"
                          "key_file = \"client.key\"\n"));
  // The key belongs to another certificate too; the date is the certificate's one error.
  ASSERT_EQ(errors.size(), 2u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0].rfind("test.toml:8:1: upstream.tls.cert_file: " + pki.path("future.crt") +
                                ": the certificate \"gateway-0002\" is not valid before ",
                            0),
            0u)
      << errors[0];
  EXPECT_NE(errors[0].find("; if the clock is wrong, set it)"), std::string::npos) << errors[0];
}

TEST(ConfigTls, AnEncryptedKeyIsRefused) {
  Pki pki;
  const std::string encrypted =
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n";
  test_support::write_file(pki.dir.path() / "client.key", encrypted, 0600);
  EXPECT_EQ(pki.errors(with_tls("enabled = true\nca_file = \"ca.pem\"\ncert_file = \"client.crt\"\n"
                                "key_file = \"client.key\"\n")),
            std::vector<std::string>{
                "test.toml:9:1: upstream.tls.key_file: " + pki.path("client.key") +
                " is encrypted; the module needs it without a passphrase (write a decrypted "
                "copy: openssl pkey -in " +
                pki.path("client.key") + " -out <new file>, readable by its owner and group only)"});
}

TEST(ConfigTls, ABundleOverTheModulesLimitIsRefusedWithWhatToKeep) {
  Pki pki;
  std::string bundle;
  int count = 0;
  while (bundle.size() <= 64 * 1024) {
    bundle += pki.ca.cert_pem();
    ++count;
  }
  test_support::write_file(pki.dir.path() / "bundle.pem", bundle, 0644);
  EXPECT_EQ(
      pki.errors(with_tls("enabled = true\nca_file = \"bundle.pem\"\n")),
      std::vector<std::string>{"test.toml:7:1: upstream.tls.ca_file: " + pki.path("bundle.pem") + " is " +
                               std::to_string(bundle.size()) +
                               " bytes, more than the 65536 bytes the module takes for one file; it holds " +
                               std::to_string(count) +
                               " certificates: keep only the root CA the broker's certificate chains to"});
}

// As ssh with a private key, but the group may read it: root:cellmqttd 0640 is how the packaged
// service reads a key root owns.
TEST(ConfigTls, AKeyOthersCanReadIsRefusedWithTheFixAndGroupReadableIsFine) {
  Pki pki;
  const std::string text = with_tls(
      "enabled = true\nca_file = \"ca.pem\"\ncert_file = \"client.crt\"\nkey_file = \"client.key\"\n");
  const std::string key = pki.path("client.key");
  for (const auto& [mode, octal] : {std::pair{fs::perms(0644), "0644"}, std::pair{fs::perms(0604), "0604"},
                                    std::pair{fs::perms(0601), "0601"}}) {
    fs::permissions(key, mode, fs::perm_options::replace);
    EXPECT_EQ(
        pki.errors(text),
        std::vector<std::string>{"test.toml:9:1: upstream.tls.key_file: " + key + " has mode " + octal +
                                 ", so every user of this machine can get at the private key; a key must "
                                 "not be readable by others (as ssh requires): chmod o-rwx " +
                                 key + " (or chmod 640 " + key +
                                 " with group cellmqttd, for the packaged "
                                 "service)"})
        << octal;
  }
  for (const auto mode : {fs::perms(0640), fs::perms(0600), fs::perms(0400), fs::perms(0660)}) {
    fs::permissions(key, mode, fs::perm_options::replace);
    const auto result = pki.parse(text);
    EXPECT_TRUE(result.config.has_value()) << ::testing::PrintToString(lines_of(result.errors));
  }
}

// Whatever goes wrong, no error shows a line of the key.
TEST(ConfigTls, NoErrorQuotesTheKey) {
  Pki pki;
  const std::string key_line = pki.client.key_pem.substr(pki.client.key_pem.find('\n') + 1, 40);
  test_support::write_file(pki.dir.path() / "client.key", pki.client.key_pem + pki.client.key_pem, 0644);
  test_support::write_file(pki.dir.path() / "both.pem", pki.client.cert_pem + pki.client.key_pem, 0644);
  for (const std::string& text :
       {with_tls(
            "enabled = true\nca_file = \"ca.pem\"\ncert_file = \"client.crt\"\nkey_file = \"client.key\"\n"),
        with_tls(
            "enabled = true\nca_file = \"both.pem\"\ncert_file = \"both.pem\"\nkey_file = \"both.pem\"\n")}) {
    const auto errors = pki.errors(text);
    EXPECT_FALSE(errors.empty());
    for (const auto& line : errors)
      EXPECT_EQ(line.find(key_line), std::string::npos) << line;
  }
}

// ---- systemd credentials ------------------------------------------------------------------------------

TEST(ConfigTls, ACredentialIsReadFromTheCredentialsDirectory) {
  Pki pki;
  TempDir credentials;
  test_support::write_file(credentials.path() / "gateway-key", pki.client.key_pem, 0400);
  const CredentialsDirectory env(credentials.path().string());
  const auto result =
      pki.parse(with_tls("enabled = true\nca_file = \"ca.pem\"\ncert_file = \"client.crt\"\nkey_file = "
                         "\"credential:gateway-key\"\n"));
  ASSERT_TRUE(result.config.has_value()) << lines_of(result.errors).front();
  EXPECT_EQ(to_session_config(*result.config).tls.key_pem, pki.client.key_pem);

  // A credential that the unit does not load.
  EXPECT_EQ(
      pki.errors(with_tls("enabled = true\nca_file = \"credential:broker-ca\"\n")),
      std::vector<std::string>{"test.toml:7:1: upstream.tls.ca_file: cannot read " +
                               (credentials.path() / "broker-ca").string() +
                               ": No such file or directory (does the unit have LoadCredential= for it?)"});
  EXPECT_EQ(
      pki.errors(with_tls("enabled = true\nca_file = \"credential:../ca.pem\"\n")),
      std::vector<std::string>{
          "test.toml:7:1: upstream.tls.ca_file: \"credential:../ca.pem\" must be \"credential:\" and the "
          "name of a systemd credential, without '/' (LoadCredential=<name>:<path> in the unit)"});
}

TEST(ConfigTls, ACredentialWithoutSystemdSaysSo) {
  Pki pki;
  const CredentialsDirectory env(std::nullopt);
  EXPECT_EQ(
      pki.errors(with_tls("enabled = true\nca_file = \"ca.pem\"\ncert_file = \"client.crt\"\n"
                          "key_file = \"credential:gateway-key\"\n")),
      std::vector<std::string>{
          "test.toml:9:1: upstream.tls.key_file: names the systemd credential \"gateway-key\", but "
          "CREDENTIALS_DIRECTORY is not set: cellmqttd was not started by systemd with "
          "LoadCredential=gateway-key:... (to check the file by hand: sudo systemd-run --pipe --wait -p "
          "LoadCredential=gateway-key:<path> cellmqttd --check-config)"});
}

// ---- the host's clock -----------------------------------------------------------------------------------

TEST(ConfigTls, AHostClockIn1970SkipsTheDateCheckWithAWarning) {
  Pki pki;
  const std::string expired = pki.ca.issue(options("gateway-0001", true, -hours(48), -hours(24))).cert_pem;
  test_support::write_file(pki.dir.path() / "expired.crt", expired, 0644);
  UpstreamTlsConfig tls;
  tls.enabled = true;
  tls.ca_file = "ca.pem";
  tls.cert_file = "expired.crt";
  const auto boot = tls::Time(std::chrono::seconds(42));  // a gateway without an RTC, before NTP
  const auto problems = load_tls_files(tls, pki.dir.path(), 64 * 1024, boot);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].key, TlsKey::kTable);
  EXPECT_TRUE(problems[0].warning);
  EXPECT_EQ(
      problems[0].message,
      "the host clock says 1970-01-01 00:00:42 UTC, which cannot be right (no battery-backed clock, and no "
      "time from NTP yet?): the certificates' dates were not checked here");
  EXPECT_EQ(tls.cert_pem, expired);
  // The window is still there, for the session to check against the module's clock.
  EXPECT_EQ(tls.window.valid_until_file, pki.path("expired.crt"));

  // The same files with the real clock: the expired certificate is an error.
  UpstreamTlsConfig again = tls;
  again.cert_pem.clear();
  const auto now_problems =
      load_tls_files(again, pki.dir.path(), 64 * 1024, std::chrono::system_clock::now());
  ASSERT_EQ(now_problems.size(), 1u);
  EXPECT_EQ(now_problems[0].key, TlsKey::kCertFile);
  EXPECT_FALSE(now_problems[0].warning);
  EXPECT_TRUE(again.cert_pem.empty());
}

// ---- [cellular] ntp_server ----------------------------------------------------------------------------

TEST(ConfigTls, TheNtpServerIsCheckedLikeAHostName) {
  const std::string rest = "[[bridge]]\ntopic = \"#\"\n[upstream]\nhost = \"h\"\n";
  EXPECT_EQ(
      lines_of(parse_config("[cellular]\nntp_server = \"\"\n" + rest, kSource).errors),
      std::vector<std::string>{"test.toml:2:14: cellular.ntp_server: is empty; give an NTP server's host "
                               "name or address (the default is \"pool.ntp.org\")"});
  EXPECT_EQ(lines_of(parse_config("[cellular]\nntp_server = 'ntp\"1'\n" + rest, kSource).errors),
            std::vector<std::string>{"test.toml:2:1: cellular.ntp_server: contains a double quote, which the "
                                     "module cannot take inside a quoted AT argument"});
  EXPECT_EQ(
      lines_of(parse_config("[cellular]\nntp_server = \"" + std::string(101, 'n') + "\"\n" + rest, kSource)
                   .errors),
      std::vector<std::string>{"test.toml:2:1: cellular.ntp_server: is longer than 100 bytes, which the "
                               "module cannot take inside a quoted AT argument"});
  const auto result = parse_config("[cellular]\nntp_server = \"time.example.net\"\n" + rest, kSource);
  ASSERT_TRUE(result.config.has_value());
  EXPECT_EQ(to_session_config(*result.config).tls.ntp_server, "time.example.net");
}

// The reference file's commented-out [upstream.tls] shows the defaults: with its '#'s removed
// it is the table as the structs have it (and, switched off, reads no file).
TEST(ConfigTls, TheReferenceFilesCommentedTableIsTheDefaults) {
  const auto path = (fs::path(__FILE__).parent_path() / "../../../etc/cellmqttd.toml").lexically_normal();
  std::ifstream in(path);
  std::string text;
  bool in_table = false;
  int keys = 0;
  for (std::string line; std::getline(in, line);) {
    if (line == "#[upstream.tls]") in_table = true;
    if (in_table && line.empty()) in_table = false;
    // Only "#key = value" lines: the comments between them start with "# ".
    if (in_table && line.starts_with('#') && !line.starts_with("# ")) {
      line.erase(0, 1);
      keys += line.find(" = ") != std::string::npos ? 1 : 0;
    }
    text += line + "\n";
  }
  EXPECT_EQ(keys, 7);
  const auto result = parse_config(text, path.string(), "/nonexistent");
  ASSERT_TRUE(result.config.has_value()) << lines_of(result.errors).front();
  const UpstreamTlsConfig& t = result.config->upstream.tls;
  const UpstreamTlsConfig defaults;
  EXPECT_EQ(t.enabled, defaults.enabled);
  EXPECT_EQ(t.ca_file, defaults.ca_file);
  EXPECT_EQ(t.cert_file, defaults.cert_file);
  EXPECT_EQ(t.key_file, defaults.key_file);
  EXPECT_EQ(t.verify_peer, defaults.verify_peer);
  EXPECT_EQ(t.sni, defaults.sni);
  EXPECT_EQ(t.version, defaults.version);
  EXPECT_EQ(result.config->upstream.port, 1883);
}

TEST(ConfigTls, AWarningPrintsAsACompilerWould) {
  EXPECT_EQ((ConfigError{"f.toml", 3, 10, "upstream.tls.verify", "is \"none\"", true}).to_string(),
            "f.toml:3:10: warning: upstream.tls.verify: is \"none\"");
}

}  // namespace
}  // namespace cellmqttd
