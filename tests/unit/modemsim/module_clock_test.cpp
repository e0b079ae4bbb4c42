// The module's clock: its power-on time, the AT+CCLK form both ways, and time running on.
#include "module_clock.hpp"

#include <gtest/gtest.h>

#include "support/manual_clock.hpp"

namespace modemsim {
namespace {

using namespace std::chrono;

TEST(ModuleClock, StartsAtTheGpsEpochAndRunsOn) {
  test_support::ManualClock steady;
  ModuleClock clock(steady);
  EXPECT_EQ(format_cclk(clock.read()), "80/01/06,00:00:00+00");
  steady.advance(seconds(61));
  EXPECT_EQ(format_cclk(clock.read()), "80/01/06,00:01:01+00");
  clock.set(*parse_cclk("26/12/31,23:59:59+32"));
  steady.advance(seconds(2));
  EXPECT_EQ(format_cclk(clock.read()), "27/01/01,00:00:01+32");
  EXPECT_EQ(clock.utc(), sys_days{year{2026} / December / 31} + hours(16) + seconds(1));  // +32: UTC+8
  clock.reset();
  EXPECT_EQ(format_cclk(clock.read()), "80/01/06,00:00:00+00");
}

TEST(ModuleClock, CclkFormRoundTripsAndRefusesWhatIsNotIt) {
  for (const char* text : {"80/01/06,00:00:00+00", "24/02/29,12:30:45-20", "79/12/31,23:59:59+56"}) {
    const auto reading = parse_cclk(text);
    ASSERT_TRUE(reading) << text;
    EXPECT_EQ(format_cclk(*reading), text);
  }
  EXPECT_EQ(parse_cclk("99/01/01,00:00:00+00")->local, sys_days{year{1999} / January / 1});
  EXPECT_EQ(parse_cclk("00/01/01,00:00:00+00")->local, sys_days{year{2000} / January / 1});
  for (const char* bad : {"", "23/02/29,00:00:00+00", "23/13/01,00:00:00+00", "23/01/01,24:00:00+00",
                          "23/01/01,00:60:00+00", "23/01/01,00:00:00+57", "23/01/01 00:00:00+00",
                          "2023/01/01,00:00:00+00", "23/01/01,00:00:00", "23/1/01,00:00:00+00"}) {
    EXPECT_FALSE(parse_cclk(bad)) << bad;
  }
}

TEST(ModuleClock, LongFormForNetworkTime) {
  EXPECT_EQ(format_utc_long(sys_days{year{2026} / March / 4} + hours(5) + minutes(6) + seconds(7)),
            "2026/03/04,05:06:07+00");
}

}  // namespace
}  // namespace modemsim
