// `cellmqttd --check-config` on TLS configurations, the real binary as a user runs it: the
// example file of each cloud (etc/examples) accepted next to stand-ins for the files it names,
// a problem with a TLS file printed with its position and exit code 1, a warning printed without
// failing the check.
#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_pki.hpp"

namespace {

namespace fs = std::filesystem;
using test_support::DaemonProcess;
using test_support::TempDir;

const fs::path kExamples = (fs::path(__FILE__).parent_path() / "../../../etc/examples").lexically_normal();

// A test CA, and a client certificate and key it issued, standing in for a cloud's files.
struct StandIns {
  test_support::TestCa ca{"Stand-in Root CA"};
  test_support::Credential client = ca.issue([] {
    test_support::CertificateOptions o;
    o.common_name = "gateway-0001";
    o.client = true;
    return o;
  }());
};

// Writes, below `dir`, a stand-in for every file the example names: the CA, the client
// certificate and key of [upstream.tls], and the password files, at the relative paths the
// example gives and with the modes the README tells users to give them.
void write_stand_ins(const toml::table& config, const fs::path& dir, const StandIns& pki) {
  const auto at = [&](std::string_view section, std::string_view key) -> std::optional<std::string> {
    const auto value = config.at_path(section)[key].value<std::string>();
    if (!value || value->empty()) return std::nullopt;
    return dir / *value;
  };
  if (auto path = at("upstream.tls", "ca_file")) test_support::write_file(*path, pki.ca.cert_pem(), 0644);
  if (auto path = at("upstream.tls", "cert_file")) test_support::write_file(*path, pki.client.cert_pem, 0644);
  if (auto path = at("upstream.tls", "key_file")) test_support::write_file(*path, pki.client.key_pem, 0640);
  for (const std::string_view section : {"cellular", "upstream", "local"}) {
    if (auto path = at(section, "password_file"))
      test_support::write_file(*path, "stand-in password\n", 0600);
  }
}

class CloudExamples : public ::testing::TestWithParam<std::string> {};

TEST_P(CloudExamples, PassCheckConfigNextToTheirFiles) {
  const fs::path example = kExamples / (GetParam() + ".toml");
  ASSERT_TRUE(fs::exists(example)) << example;
  TempDir dir;
  const fs::path config = dir.path() / example.filename();
  fs::copy_file(example, config);
  const StandIns pki;
  const toml::table parsed = toml::parse_file(config.string());
  write_stand_ins(parsed, dir.path(), pki);
  // Every cloud here takes TLS.
  EXPECT_TRUE(parsed.at_path("upstream.tls.enabled").value_or(false)) << example;

  const auto result = DaemonProcess::run({"--check-config", "--config", config.string()});
  EXPECT_TRUE(result.status.clean()) << result.status.describe() << "\n" << result.err;
  EXPECT_EQ(result.out, config.string() + ": OK\n");
  EXPECT_EQ(result.err, "");  // not even a warning
}

INSTANTIATE_TEST_SUITE_P(CheckConfig, CloudExamples,
                         ::testing::Values("aws-iot-core", "azure-iot-hub", "hivemq-cloud", "emqx-cloud",
                                           "thingsboard"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

TEST(CheckConfig, EveryExampleIsTested) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(kExamples))
    found.push_back(entry.path().filename().string());
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<std::string>{"aws-iot-core.toml", "azure-iot-hub.toml", "emqx-cloud.toml",
                                             "hivemq-cloud.toml", "thingsboard.toml"}));
}

TEST(CheckConfig, ATlsFileProblemIsPrintedWithItsPositionAndFailsTheCheck) {
  TempDir dir;
  const StandIns pki;
  test_support::write_file(dir.path() / "ca.pem", pki.ca.cert_pem(), 0644);
  test_support::write_file(dir.path() / "client.crt", pki.client.cert_pem, 0644);
  test_support::write_file(dir.path() / "client.key", pki.client.key_pem, 0644);  // others can read it
  const std::string config = dir.write("cellmqttd.toml",
                                       "[upstream]\n"                     // 1
                                       "host = \"broker.example.com\"\n"  // 2
                                       "[upstream.tls]\n"                 // 3
                                       "enabled = true\n"                 // 4
                                       "ca_file = \"ca.pem\"\n"           // 5
                                       "cert_file = \"client.crt\"\n"     // 6
                                       "key_file = \"client.key\"\n"      // 7
                                       "[[bridge]]\n"
                                       "topic = \"#\"\n");
  const auto result = DaemonProcess::run({"--check-config", "--config", config});
  ASSERT_TRUE(result.status.exited) << result.status.describe();
  EXPECT_EQ(result.status.code, 1);
  const std::string key = (dir.path() / "client.key").string();
  EXPECT_EQ(result.err,
            config + ":7:1: upstream.tls.key_file: " + key +
                " has mode 0644, so every user of this machine can get at the private key; a key must "
                "not be readable by others (as ssh requires): chmod o-rwx " +
                key + " (or chmod 640 " + key +
                " with group cellmqttd, for the packaged service)\ncellmqttd: 1 error(s) in " + config +
                "\n");
  EXPECT_EQ(result.out, "");
}

TEST(CheckConfig, VerifyNoneIsAWarningThatDoesNotFailTheCheck) {
  TempDir dir;
  const std::string config = dir.write("cellmqttd.toml",
                                       "[upstream]\n"
                                       "host = \"broker.example.com\"\n"
                                       "[upstream.tls]\n"
                                       "enabled = true\n"
                                       "verify = \"none\"\n"
                                       "[[bridge]]\n"
                                       "topic = \"#\"\n");
  const auto result = DaemonProcess::run({"--check-config", "--config", config});
  EXPECT_TRUE(result.status.clean()) << result.status.describe() << "\n" << result.err;
  EXPECT_EQ(result.out, config + ": OK\n");
  EXPECT_EQ(result.err,
            config +
                ":5:10: warning: upstream.tls.verify: is \"none\": the server is not authenticated: "
                "anyone on the path can pose as it\n");
}

}  // namespace
