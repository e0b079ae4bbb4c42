// modemsim's SSL contexts end to end: AT+QSSLCFG sets and reads back each option of contexts 0-5,
// AT+QMTCFG="ssl" ties an MQTT client to one, and a reboot forgets both (field-notes.md 3.1, 3.2).
#include <gtest/gtest.h>

#include <string>

#include "modemsim_terminal.hpp"

namespace {

using modemsim_e2e::info;
using modemsim_e2e::kError;
using modemsim_e2e::kOk;

class ModemsimSslConfig : public modemsim_e2e::ModemsimTerminal {
 protected:
  void expect_value(const std::string& option, int ctx, const std::string& value) {
    expect("AT+QSSLCFG=\"" + option + "\"," + std::to_string(ctx),
           info({"+QSSLCFG: \"" + option + "\"," + std::to_string(ctx) + "," + value}) + kOk);
  }
  void expect_defaults(int ctx) {
    expect_value("cacert", ctx, "\"\"");
    expect_value("clientcert", ctx, "\"\"");
    expect_value("clientkey", ctx, "\"\"");
    expect_value("seclevel", ctx, "0");
    expect_value("sslversion", ctx, "4");
    expect_value("ciphersuite", ctx, "0XFFFF");
    expect_value("ignorelocaltime", ctx, "1");
    expect_value("sni", ctx, "0");
  }
};

TEST_F(ModemsimSslConfig, EveryOptionHasItsDefaultThenReadsBackWhatWasSet) {
  expect_defaults(2);
  // The sequence of field-notes.md 3.1, files not uploaded yet (they are only looked for at QMTOPEN).
  expect("AT+QSSLCFG=\"cacert\",2,\"UFS:cellmqtt-ca-1a2b3c4d.pem\"", kOk);
  expect("AT+QSSLCFG=\"clientcert\",2,\"UFS:client.pem\"", kOk);
  expect("AT+QSSLCFG=\"clientkey\",2,\"RAM:user_key.pem\"", kOk);
  expect("AT+QSSLCFG=\"seclevel\",2,2", kOk);
  expect("AT+QSSLCFG=\"sslversion\",2,3", kOk);
  expect("AT+QSSLCFG=\"ciphersuite\",2,0xC02B", kOk);
  expect("AT+QSSLCFG=\"ignorelocaltime\",2,0", kOk);
  expect("AT+QSSLCFG=\"SNI\",2,1", kOk);  // option names in any case
  expect_value("cacert", 2, "\"UFS:cellmqtt-ca-1a2b3c4d.pem\"");
  expect_value("clientcert", 2, "\"UFS:client.pem\"");
  expect_value("clientkey", 2, "\"RAM:user_key.pem\"");
  expect_value("seclevel", 2, "2");
  expect_value("sslversion", 2, "3");
  expect_value("ciphersuite", 2, "0XC02B");
  expect_value("ignorelocaltime", 2, "0");
  expect_value("sni", 2, "1");
  expect_defaults(0);  // the other contexts are their own
  expect_defaults(5);
}

TEST_F(ModemsimSslConfig, BadOptionsContextsAndValuesAreRefused) {
  expect("AT+QSSLCFG=\"ciphersuite\",2,\"0XFFFF\"", kError);  // quoted: field-notes.md 3.1
  expect("AT+QSSLCFG=\"ciphersuite\",2,FFFF", kError);
  expect("AT+QSSLCFG=\"ciphersuite\",2,0X1FFFF", kError);
  expect("AT+QSSLCFG=\"seclevel\",2,3", kError);
  expect("AT+QSSLCFG=\"sslversion\",2,5", kError);
  expect("AT+QSSLCFG=\"ignorelocaltime\",2,2", kError);
  expect("AT+QSSLCFG=\"sni\",2,\"1\"", kError);
  expect("AT+QSSLCFG=\"cacert\",2,cacert.pem", kError);  // a file name is quoted
  expect("AT+QSSLCFG=\"seclevel\",6,1", kError);         // contexts 0-5
  expect("AT+QSSLCFG=\"nosuch\",2,1", kError);
  expect("AT+QSSLCFG=\"seclevel\",2", info({"+QSSLCFG: \"seclevel\",2,0"}) + kOk);  // nothing changed
}

TEST_F(ModemsimSslConfig, QmtcfgSslTiesAClientToAContext) {
  expect("AT+QMTCFG=\"ssl\",0", info({"+QMTCFG: \"ssl\",0"}) + kOk);
  expect("AT+QMTCFG=\"SSL\",0,1,2", kOk);  // as the application note writes it (seeds/002 5.2)
  expect("AT+QMTCFG=\"ssl\",0", info({"+QMTCFG: \"ssl\",1,2"}) + kOk);
  expect("AT+QMTCFG=\"ssl\",1,1", kOk);  // the context left out is 0
  expect("AT+QMTCFG=\"ssl\",1", info({"+QMTCFG: \"ssl\",1,0"}) + kOk);
  expect("AT+QMTCFG=\"ssl\",0,1,6", "\r\n+CME ERROR: 50\r\n");  // the EC200U's QMTCFG refusal
  expect("AT+QMTCFG=\"ssl\",0,2", "\r\n+CME ERROR: 50\r\n");
  expect("AT+QMTCFG=\"ssl\",0", info({"+QMTCFG: \"ssl\",1,2"}) + kOk);
}

TEST_F(ModemsimSslConfig, ARebootForgetsTheContextsAndTheClientsSsl) {
  expect("AT+QSSLCFG=\"cacert\",1,\"UFS:ca.pem\"", kOk);
  expect("AT+QSSLCFG=\"seclevel\",1,1", kOk);
  expect("AT+QMTCFG=\"ssl\",0,1,1", kOk);
  ASSERT_EQ(sim->control("reboot"), "ok");
  term->read_until("+QIND: PB DONE\r\n");
  ASSERT_EQ(term->exchange("ATE0\r", kOk), "ATE0\r" + kOk);
  expect_defaults(1);
  expect("AT+QMTCFG=\"ssl\",0", info({"+QMTCFG: \"ssl\",0"}) + kOk);
}

}  // namespace
