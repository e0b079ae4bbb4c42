// Finding the AT port: ranking of USB serial ports from the module table, and reading the USB
// interface number from (fake) sysfs.
#include "modem/transport/port_discovery.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace modem {
namespace {

namespace fs = std::filesystem;

constexpr std::uint16_t kQuectel = 0x2c7c;

UsbSerialPort usb(std::string path, std::uint16_t vid, std::uint16_t pid, std::optional<int> interface) {
  return UsbSerialPort{std::move(path), vid, pid, interface, "test port"};
}

// Ports /dev/ttyUSB<first>.. for interfaces first..last of one device, tty number = interface.
std::vector<UsbSerialPort> device(std::uint16_t vid, std::uint16_t pid, int first, int last) {
  std::vector<UsbSerialPort> ports;
  for (int i = first; i <= last; ++i) {
    ports.push_back(usb("/dev/ttyUSB" + std::to_string(i), vid, pid, i));
  }
  return ports;
}

std::vector<std::string> paths_of(const std::vector<AtPortCandidate>& candidates) {
  std::vector<std::string> paths;
  for (const AtPortCandidate& c : candidates) {
    paths.push_back(c.path);
  }
  return paths;
}

struct RankCase {
  std::string name;
  std::vector<UsbSerialPort> ports;
  std::vector<std::string> expected;  // candidate paths, best first
};
void PrintTo(const RankCase& c, std::ostream* os) {
  *os << c.name;
}

std::vector<UsbSerialPort> concat(std::vector<UsbSerialPort> a, const std::vector<UsbSerialPort>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<RankCase>& rank_cases() {
  static const std::vector<RankCase> cases = {
      // if0 DM, if1 NMEA, if4 QMI are never AT; if2 is the AT port, if3 the modem port.
      {"Ec25PrimaryThenSecondary", device(kQuectel, 0x0125, 0, 4), {"/dev/ttyUSB2", "/dev/ttyUSB3"}},
      // if2 is AT; the other vendor-specific interfaces are worth probing after it; 0/1 are ECM.
      {"Ec200uInterface2ThenTheRest",
       device(kQuectel, 0x0901, 0, 8),
       {"/dev/ttyUSB2", "/dev/ttyUSB3", "/dev/ttyUSB4", "/dev/ttyUSB5", "/dev/ttyUSB6", "/dev/ttyUSB7",
        "/dev/ttyUSB8"}},
      // As the kernel numbers it: ttyUSB0 = if2 (diag), ttyUSB1 = if3, ttyUSB2 = if4.
      {"Ec600mInterfaces3Then4",
       {usb("/dev/ttyUSB0", kQuectel, 0x6002, 2), usb("/dev/ttyUSB1", kQuectel, 0x6002, 3),
        usb("/dev/ttyUSB2", kQuectel, 0x6002, 4)},
       {"/dev/ttyUSB1", "/dev/ttyUSB2"}},
      // Natural path order: 2 before 10.
      {"UnknownQuectelModelAllPortsByPath",
       {usb("/dev/ttyUSB10", kQuectel, 0x1234, 3), usb("/dev/ttyUSB2", kQuectel, 0x1234, 0),
        usb("/dev/ttyUSB1", kQuectel, 0x1234, std::nullopt), usb("/dev/ttyUSB3", kQuectel, 0x1234, 1)},
       {"/dev/ttyUSB1", "/dev/ttyUSB2", "/dev/ttyUSB3", "/dev/ttyUSB10"}},
      {"FtdiAdapterExcluded", {usb("/dev/ttyUSB0", 0x0403, 0x6001, 0)}, {}},
      {"UnknownVendorWithoutInterfaceExcluded", {usb("/dev/ttyACM0", 0x1234, 0x5678, std::nullopt)}, {}},
      {"KnownModuleWithoutInterfaceNumberIsProbed",
       {usb("/dev/ttyUSB0", kQuectel, 0x0125, std::nullopt)},
       {"/dev/ttyUSB0"}},
      {"FibocomVendorsAndL610",
       {usb("/dev/ttyUSB0", 0x2cb7, 0x0001, 2), usb("/dev/ttyUSB1", 0x1508, 0x1001, 0),
        usb("/dev/ttyUSB2", 0x1782, 0x4d10, 1), usb("/dev/ttyUSB3", 0x1782, 0x4d11, 1),
        usb("/dev/ttyUSB4", 0x1782, 0x0001, 1)},
       {"/dev/ttyUSB0", "/dev/ttyUSB1", "/dev/ttyUSB2", "/dev/ttyUSB3"}},
      // Two modules: both primaries, both secondaries, then the leftovers of known vendors by path.
      {"TwoModulesMixed",
       concat(concat(device(kQuectel, 0x0125, 0, 4),
                     {usb("/dev/ttyUSB5", kQuectel, 0x6002, 2), usb("/dev/ttyUSB6", kQuectel, 0x6002, 3),
                      usb("/dev/ttyUSB7", kQuectel, 0x6002, 4), usb("/dev/ttyUSB8", 0x0403, 0x6001, 0)}),
              {usb("/dev/ttyACM0", kQuectel, 0x7777, 0)}),
       {"/dev/ttyUSB2", "/dev/ttyUSB6", "/dev/ttyUSB3", "/dev/ttyUSB7", "/dev/ttyACM0"}},
  };
  return cases;
}

class RankAtPortsTest : public testing::TestWithParam<RankCase> {};

TEST_P(RankAtPortsTest, OrdersCandidates) {
  EXPECT_EQ(paths_of(rank_at_ports(GetParam().ports)), GetParam().expected);
}

TEST_P(RankAtPortsTest, ResultDoesNotDependOnInputOrder) {
  const std::vector<AtPortCandidate> reference = rank_at_ports(GetParam().ports);
  std::vector<UsbSerialPort> ports = GetParam().ports;
  std::mt19937 shuffler(12345);  // fixed seed: the same permutations on every run
  for (int round = 0; round < 20; ++round) {
    std::shuffle(ports.begin(), ports.end(), shuffler);
    const std::vector<AtPortCandidate> ranked = rank_at_ports(ports);
    ASSERT_EQ(paths_of(ranked), paths_of(reference)) << "round " << round;
    for (std::size_t i = 0; i < ranked.size(); ++i) {
      EXPECT_EQ(ranked[i].module, reference[i].module);
      EXPECT_EQ(ranked[i].confidence, reference[i].confidence);
      EXPECT_EQ(ranked[i].reason, reference[i].reason);
    }
  }
}

TEST_P(RankAtPortsTest, ConfidenceNeverIncreasesDownTheList) {
  const std::vector<AtPortCandidate> ranked = rank_at_ports(GetParam().ports);
  for (std::size_t i = 1; i < ranked.size(); ++i) {
    EXPECT_GE(ranked[i - 1].confidence, ranked[i].confidence) << ranked[i].path;
  }
}

INSTANTIATE_TEST_SUITE_P(Modules, RankAtPortsTest, testing::ValuesIn(rank_cases()),
                         [](const testing::TestParamInfo<RankCase>& info) { return info.param.name; });

TEST(RankAtPortsDetailTest, KnownAtInterfacesOutrankOtherVendorPorts) {
  const std::vector<UsbSerialPort> ports = device(kQuectel, 0x0901, 2, 4);
  const std::vector<AtPortCandidate> ranked = rank_at_ports(ports);
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked[0].module, "Quectel EC200U");
  EXPECT_GT(ranked[0].confidence, ranked[1].confidence);
  EXPECT_EQ(ranked[1].confidence, ranked[2].confidence);
  EXPECT_FALSE(ranked[0].reason.empty());
}

TEST(RankAtPortsDetailTest, PrimaryOutranksSecondary) {
  const std::vector<AtPortCandidate> ranked = rank_at_ports(device(kQuectel, 0x0125, 2, 3));
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(ranked[0].module, "Quectel EC25");
  EXPECT_GT(ranked[0].confidence, ranked[1].confidence);
}

TEST(RankAtPortsDetailTest, UnknownModelIsNamedByVendorWithLowConfidence) {
  const std::vector<UsbSerialPort> ports = {usb("/dev/ttyUSB0", kQuectel, 0x1234, 0),
                                            usb("/dev/ttyUSB5", kQuectel, 0x0125, 2)};
  const std::vector<AtPortCandidate> ranked = rank_at_ports(ports);
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(ranked[1].path, "/dev/ttyUSB0");
  EXPECT_EQ(ranked[1].module, "Quectel (unknown model)");
  EXPECT_LT(ranked[1].confidence, ranked[0].confidence);
}

TEST(RankAtPortsDetailTest, EmptyInputGivesNoCandidates) {
  EXPECT_TRUE(rank_at_ports({}).empty());
}

// A throwaway directory tree standing in for /sys.
class FakeSysfs : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "cellmqtt-sysfs-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    fs::create_directories(class_tty());
  }
  void TearDown() override {
    std::error_code ec;
    if (!root_.empty()) fs::remove_all(root_, ec);
  }

  fs::path class_tty() const { return root_ / "class" / "tty"; }

  static void write_file(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
  }

  // The real layout: /sys/class/tty/<tty> -> ../../devices/.../<tty dir>, whose `device` is a
  // relative symlink to the device that owns the tty.
  void add_tty(const std::string& tty, const fs::path& tty_dir, const fs::path& device_target) {
    fs::create_directories(tty_dir);
    fs::create_directory_symlink(device_target, tty_dir / "device");
    fs::create_directory_symlink(fs::relative(tty_dir, class_tty()), class_tty() / tty);
  }

  // ttyUSB: interface dir 1-1:1.<n> > usb-serial port dir ttyUSBx > tty/ttyUSBx.
  fs::path add_usb_serial_tty(const std::string& tty, const std::string& interface_dir) {
    const fs::path interface = root_ / "devices/pci0000:00/0000:00:14.0/usb1/1-1" / interface_dir;
    add_tty(tty, interface / tty / "tty" / tty, fs::path("../../..") / tty);
    return interface;
  }

  // ttyACM: interface dir 1-2:1.<n> > tty/ttyACMx; `device` is the interface itself.
  fs::path add_acm_tty(const std::string& tty, const std::string& interface_dir) {
    const fs::path interface = root_ / "devices/pci0000:00/0000:00:14.0/usb1/1-2" / interface_dir;
    add_tty(tty, interface / "tty" / tty, "../..");
    return interface;
  }

  fs::path root_;
};

TEST_F(FakeSysfs, UsbSerialTtyReadsTheInterfaceFromTheParentOfItsDevice) {
  const fs::path interface = add_usb_serial_tty("ttyUSB2", "1-1:1.2");
  write_file(interface / "bInterfaceNumber", "02\n");

  EXPECT_EQ(usb_interface_number(class_tty(), "ttyUSB2"), 2);
}

TEST_F(FakeSysfs, AcmTtyReadsTheInterfaceFromItsDevice) {
  const fs::path interface = add_acm_tty("ttyACM0", "1-2:1.3");
  write_file(interface / "bInterfaceNumber", "03\n");
  // The USB device above the interface has no bInterfaceNumber in real sysfs; a decoy here shows
  // that the device directory is checked first.
  write_file(interface.parent_path() / "bInterfaceNumber", "07\n");

  EXPECT_EQ(usb_interface_number(class_tty(), "ttyACM0"), 3);
}

TEST_F(FakeSysfs, InterfaceNumberIsHex) {
  const fs::path interface = add_usb_serial_tty("ttyUSB9", "1-1:1.10");
  write_file(interface / "bInterfaceNumber", "0a\n");

  EXPECT_EQ(usb_interface_number(class_tty(), "ttyUSB9"), 10);
}

TEST_F(FakeSysfs, MissingFileGivesNothing) {
  add_usb_serial_tty("ttyUSB0", "1-1:1.0");

  EXPECT_EQ(usb_interface_number(class_tty(), "ttyUSB0"), std::nullopt);
}

TEST_F(FakeSysfs, GarbageFileGivesNothing) {
  const fs::path interface = add_usb_serial_tty("ttyUSB0", "1-1:1.0");
  write_file(interface / "bInterfaceNumber", "zz\n");

  EXPECT_EQ(usb_interface_number(class_tty(), "ttyUSB0"), std::nullopt);
}

TEST_F(FakeSysfs, UnknownTtyGivesNothing) {
  EXPECT_EQ(usb_interface_number(class_tty(), "ttyUSB42"), std::nullopt);
  EXPECT_EQ(usb_interface_number(class_tty(), "../tty"), std::nullopt);
}

}  // namespace
}  // namespace modem
