// main() for every test binary: GoogleTest, with the daemon's logs silenced unless the person
// running the tests asks for them (CELLMQTT_TEST_LOG=trace|debug|info|warn), so a failure's own
// message is not buried under the warnings that the tests provoke on purpose.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const char* level = std::getenv("CELLMQTT_TEST_LOG");
  spdlog::set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::off);
  return RUN_ALL_TESTS();
}
