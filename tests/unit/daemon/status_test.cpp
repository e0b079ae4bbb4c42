// The one-line status systemd shows (`systemctl status cellmqttd`, "Status:"): a person looking at
// a gateway must be able to act on it without reading the journal.
#include "status.hpp"

#include <gtest/gtest.h>

namespace cellmqttd {
namespace {

namespace ms = modem::session;

TEST(StatusLine, ConnectedNamesTheBrokerTheModuleAndTheSignal) {
  ms::ModuleInfo info;
  info.model = "EC200U";
  info.rssi_dbm = -65;
  StatusSnapshot s;
  s.state = ms::State::kReady;
  s.info = &info;
  s.upstream = "broker.example.com:1883";
  s.spool_depth = 3;
  EXPECT_EQ(status_line(s), "connected to broker.example.com:1883 via EC200U, RSSI -65 dBm, spool 3");
}

TEST(StatusLine, WithoutAModuleSaysWhyRatherThanStopped) {
  ms::ModuleInfo none;
  StatusSnapshot s;
  s.state = ms::State::kStopped;
  s.info = &none;
  s.no_module_reason = "no Quectel or Fibocom AT port found (is the module plugged in?)";
  EXPECT_EQ(
      status_line(s),
      "waiting for the module: no Quectel or Fibocom AT port found (is the module plugged in?); spool 0");
}

TEST(StatusLine, OnTheWayUpNamesTheState) {
  ms::ModuleInfo info;
  info.model = "EC200U";
  StatusSnapshot s;
  s.state = ms::State::kRegistering;
  s.info = &info;
  EXPECT_EQ(status_line(s), "registering (EC200U), spool 0");
}

}  // namespace
}  // namespace cellmqttd
