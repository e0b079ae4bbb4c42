// modemsim's file store end to end: AT+QFUPL takes exactly <size> raw bytes after CONNECT (AT text
// among them stays data), reports their checksum, refuses an existing name; AT+QFLST lists, AT+QFDEL
// deletes; UFS survives a reboot and RAM does not (Quectel's FILE AT commands manual; field-notes.md
// 3.1-3.3).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "modemsim_terminal.hpp"

namespace {

using namespace std::string_literals;
using modemsim_e2e::info;
using modemsim_e2e::kError;
using modemsim_e2e::kOk;

// The checksum as the manual defines it, computed here independently of modemsim's: the XOR of
// 16-bit big-endian words, an odd last byte padded with a zero low byte; lowercase hex.
std::string checksum(const std::string& data) {
  std::uint16_t sum = 0;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    const unsigned high = static_cast<unsigned char>(data[i]);
    const unsigned low = i + 1 < data.size() ? static_cast<unsigned char>(data[i + 1]) : 0u;
    sum ^= static_cast<std::uint16_t>(high << 8 | low);
  }
  char text[8];
  std::snprintf(text, sizeof text, "%x", sum);
  return text;
}

class ModemsimFiles : public modemsim_e2e::ModemsimTerminal {
 protected:
  // AT+QFUPL="<name>",<size>: CONNECT, then the bytes; returns what follows them.
  std::string upload(const std::string& name, const std::string& data) {
    EXPECT_EQ(
        term->exchange("AT+QFUPL=\"" + name + "\"," + std::to_string(data.size()) + ",10\r", "CONNECT\r\n"),
        "\r\nCONNECT\r\n");
    term->write(data);
    return term->read_until([](const std::string& out) {
      return out.ends_with(kOk) || out.ends_with(kError) ||
             (out.find("+CME ERROR:") != std::string::npos && out.ends_with("\r\n"));
    });
  }
  std::string uploaded(const std::string& data) {
    return info({"+QFUPL: " + std::to_string(data.size()) + "," + checksum(data)}) + kOk;
  }
  void reboot() {
    ASSERT_EQ(sim->control("reboot"), "ok");
    term->read_until("+QIND: PB DONE\r\n");
    ASSERT_EQ(term->exchange("ATE0\r", kOk), "ATE0\r" + kOk);
  }
};

TEST_F(ModemsimFiles, UploadStoresExactlyItsBytesEvenWhenTheyLookLikeAtCommands) {
  // Echo on: the command line comes back, the data never does.
  expect("ATE1", kOk);
  const std::string data = "AT\r\r\nOK\r\nAT+QFDEL=\"*\"\r\n> \x00\x1a\x1b\xff\x80-----END-"s;
  ASSERT_EQ(data.size() % 2, 1u);  // an odd length: the last byte is a word's high byte
  const std::string command =
      "AT+QFUPL=\"UFS:cellmqtt-ca-1a2b3c4d.pem\"," + std::to_string(data.size()) + ",10\r";
  EXPECT_EQ(term->exchange(command, "CONNECT\r\n"), command + "\r\nCONNECT\r\n");
  EXPECT_EQ(term->exchange(data, kOk), uploaded(data));
  expect("ATE0", "ATE0\r" + kOk);
  const std::string listed = "+QFLST: \"UFS:cellmqtt-ca-1a2b3c4d.pem\"," + std::to_string(data.size());
  expect("AT+QFLST=\"UFS:*\"", info({listed}) + kOk);  // the AT+QFDEL inside the data did nothing
  expect("AT+QFLST=\"*\"", info({listed}) + kOk);
  expect("AT+QFLST", info({listed}) + kOk);
  expect("AT+QFLST=\"RAM:*\"", kOk);
  expect("AT", kOk);  // the line is back to commands
}

TEST_F(ModemsimFiles, AnExistingNameIsRefusedWith407AndDeletingFreesIt) {
  EXPECT_EQ(upload("UFS:ca.pem", "first"), uploaded("first"));
  expect("AT+QFUPL=\"UFS:ca.pem\",6", "\r\n+CME ERROR: 407\r\n");  // field-notes.md 3.3
  expect("AT+QFUPL=\"ca.pem\",6", "\r\n+CME ERROR: 407\r\n");      // no drive: UFS
  EXPECT_EQ(upload("UFS:CA.pem", "other"), uploaded("other"));     // names are case-sensitive
  expect("AT+QFDEL=\"UFS:ca.pem\"", kOk);
  expect("AT+QFDEL=\"UFS:ca.pem\"", "\r\n+CME ERROR: 405\r\n");
  EXPECT_EQ(upload("UFS:ca.pem", "second"), uploaded("second"));
  expect("AT+QFLST=\"*\"", info({"+QFLST: \"UFS:CA.pem\",5", "+QFLST: \"UFS:ca.pem\",6"}) + kOk);
  expect("AT+QFDEL=\"*\"", kOk);
  expect("AT+QFLST=\"*\"", kOk);
  expect("AT+QFUPL=\"UFS:empty\",0", "\r\n+CME ERROR: 421\r\n");
  expect("AT+QFUPL=\"UFS:huge\",1048577", "\r\n+CME ERROR: 421\r\n");
  const std::string stats = sim->control("stats");
  EXPECT_NE(stats.find("\"qfupl\":3,\"qfdel\":2,\"qntp\":0"), std::string::npos) << stats;
}

TEST_F(ModemsimFiles, UfsSurvivesARebootAndRamDoesNot) {
  EXPECT_EQ(upload("UFS:keep.pem", "kept"), uploaded("kept"));
  EXPECT_EQ(upload("RAM:lose.pem", "lost!"), uploaded("lost!"));
  expect("AT+QFLST=\"RAM:*\"", info({"+QFLST: \"RAM:lose.pem\",5"}) + kOk);
  reboot();
  expect("AT+QFLST=\"UFS:*\"", info({"+QFLST: \"UFS:keep.pem\",4"}) + kOk);
  expect("AT+QFLST=\"RAM:*\"", kOk);
}

TEST_F(ModemsimFiles, AnUploadThatStopsShortTimesOutAndStoresNothing) {
  EXPECT_EQ(term->exchange("AT+QFUPL=\"UFS:slow.pem\",100,1\r", "CONNECT\r\n"), "\r\nCONNECT\r\n");
  term->write("only part of it");
  EXPECT_EQ(term->read_until("+CME ERROR: 409\r\n"), "\r\n+CME ERROR: 409\r\n");
  expect("AT+QFLST=\"*\"", kOk);
  expect("AT", kOk);
  EXPECT_NE(sim->control("stats").find("\"qfupl\":0"), std::string::npos);
}

TEST_F(ModemsimFiles, AckModeSaysAAfterEachKilobyte) {
  const std::string data(2500, 'p');
  EXPECT_EQ(term->exchange("AT+QFUPL=\"UFS:big.pem\",2500,10,1\r", "CONNECT\r\n"), "\r\nCONNECT\r\n");
  EXPECT_EQ(term->exchange(data.substr(0, 1024), "A"), "A");
  EXPECT_EQ(term->exchange(data.substr(1024, 1024), "A"), "A");
  EXPECT_EQ(term->exchange(data.substr(2048), kOk), uploaded(data));
}

}  // namespace
