#include "modem/transport/port_discovery.hpp"

#include <fmt/format.h>
#include <libserialport.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <set>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>

namespace modem {
namespace {

// A short, compile-time list of USB interface numbers.
class InterfaceList {
 public:
  constexpr InterfaceList() = default;
  constexpr InterfaceList(std::initializer_list<int> numbers) {
    // More than the capacity fails to compile (out-of-bounds write in a constant expression).
    for (int n : numbers) {
      numbers_[size_++] = n;
    }
  }
  // Position of `number` in the list (0 = most preferred), or nullopt.
  constexpr std::optional<std::size_t> index_of(int number) const {
    for (std::size_t i = 0; i < size_; ++i) {
      if (numbers_[i] == number) return i;
    }
    return std::nullopt;
  }

 private:
  std::array<int, 8> numbers_{};
  std::size_t size_ = 0;
};

struct KnownModule {
  std::uint16_t vid;
  std::uint16_t pid;
  std::string_view name;
  InterfaceList at_interfaces;      // in order of preference: primary first
  InterfaceList not_at_interfaces;  // diag, NMEA/GNSS, audio, network: never answer AT
};

constexpr std::uint16_t kQuectelVid = 0x2c7c;

// clang-format off
constexpr KnownModule kKnownModules[] = {
    // Quectel LTE Linux USB driver guide: if0 DM, if1 NMEA, if2 AT, if3 modem (also answers AT), if4 QMI.
    {kQuectelVid, 0x0125, "Quectel EC25", {2, 3}, {0, 1, 4}},
    // Same Qualcomm MDM9x07 layout as EC25 (Quectel Linux USB driver guide).
    {kQuectelVid, 0x0121, "Quectel EC21", {2, 3}, {0, 1, 4}},
    // Same layout as EC25 (Quectel Linux USB driver guide).
    {kQuectelVid, 0x0191, "Quectel EG91", {2, 3}, {0, 1, 4}},
    // Same layout as EC25 (Quectel Linux USB driver guide).
    {kQuectelVid, 0x0195, "Quectel EG95", {2, 3}, {0, 1, 4}},
    // Same layout as EC25 (Quectel BG96 Linux USB driver guide).
    {kQuectelVid, 0x0296, "Quectel BG96", {2, 3}, {0, 1, 4}},
    // Assumed same layout as EC25 (Quectel Linux USB driver guide lists EM05 with it).
    {kQuectelVid, 0x030a, "Quectel EM05", {2, 3}, {0, 1, 4}},
    // Linux option.c "add Quectel EC200U modem": if0/1 cdc_ether, 2..8 AT + AP + CP + NMEA + DIAG + MOS.
    {kQuectelVid, 0x0901, "Quectel EC200U", {2}, {0, 1}},
    // if0/1 cdc_ether; AT on if2 assumed like EC200U (no public interface map).
    {kQuectelVid, 0x0904, "Quectel EC200G-CN", {2}, {0, 1}},
    // Field notes: if0/1 ECM, if2 diag (silent), if3/4 vendor-specific AT (ttyUSB1/ttyUSB2 answer AT).
    {kQuectelVid, 0x6002, "Quectel EC200S-CN/EC600S/EC600M", {3, 4}, {0, 1, 2}},
    // Field notes: same layout as 0x6002; EC200A's ttyUSB1 (if3) is the communication port.
    {kQuectelVid, 0x6005, "Quectel EC200A", {3, 4}, {0, 1, 2}},
    // Same layout as 0x6002 (Linux option.c binds only the vendor-specific interfaces).
    {kQuectelVid, 0x6026, "Quectel EC200T", {3, 4}, {0, 1, 2}},
    // Same layout as 0x6002 (same UNISOC-based EC200 family).
    {kQuectelVid, 0x6001, "Quectel EG912Y", {3, 4}, {0, 1, 2}},
    // Fibocom L610 (UNISOC): PIDs known, interface map not, so all its ports get probed.
    {0x1782, 0x4d10, "Fibocom L610", {}, {}},
    {0x1782, 0x4d11, "Fibocom L610", {}, {}},
};
// clang-format on

struct KnownVendor {
  std::uint16_t vid;
  std::string_view name;
};

// Vendors whose every port is worth an "AT" probe even for a model missing from the table. 0x1782
// (UNISOC/Spreadtrum) is not here: most of its devices are not Fibocom modules.
constexpr KnownVendor kKnownVendors[] = {
    {kQuectelVid, "Quectel"},
    {0x2cb7, "Fibocom"},
    {0x1508, "Fibocom"},
};

constexpr int kPrimaryAtConfidence = 100;
constexpr int kConfidenceStepPerPreference = 10;
constexpr int kVendorPortConfidence = 10;

}  // namespace

std::string known_vendors() {
  std::vector<std::string_view> names;
  for (const KnownVendor& v : kKnownVendors) {
    if (std::find(names.begin(), names.end(), v.name) == names.end()) names.push_back(v.name);
  }
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += std::string(i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + std::string(names[i]);
  return out;
}

namespace {

const KnownModule* find_module(std::uint16_t vid, std::uint16_t pid) {
  for (const KnownModule& module : kKnownModules) {
    if (module.vid == vid && module.pid == pid) return &module;
  }
  return nullptr;
}

const KnownVendor* find_vendor(std::uint16_t vid) {
  for (const KnownVendor& vendor : kKnownVendors) {
    if (vendor.vid == vid) return &vendor;
  }
  return nullptr;
}

// "Natural" order, so /dev/ttyUSB2 comes before /dev/ttyUSB10 (the kernel numbers ports in
// interface order, which is what a person reading the log expects). Ties fall back to plain
// comparison so the order is total.
bool natural_less(std::string_view a, std::string_view b) {
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      std::size_t i_end = i;
      std::size_t j_end = j;
      while (i_end < a.size() && is_digit(a[i_end])) {
        ++i_end;
      }
      while (j_end < b.size() && is_digit(b[j_end])) {
        ++j_end;
      }
      std::string_view x = a.substr(i, i_end - i);
      std::string_view y = b.substr(j, j_end - j);
      x.remove_prefix(std::min(x.find_first_not_of('0'), x.size()));
      y.remove_prefix(std::min(y.find_first_not_of('0'), y.size()));
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = i_end;
      j = j_end;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  if ((i < a.size()) != (j < b.size())) return j < b.size();
  return a < b;
}

std::string interface_text(const std::optional<int>& interface_number) {
  return interface_number ? fmt::format("interface {}", *interface_number)
                          : std::string("port with unknown interface number");
}

std::optional<AtPortCandidate> rank_one(const UsbSerialPort& port) {
  const KnownModule* module = find_module(port.vid, port.pid);
  const KnownVendor* vendor = find_vendor(port.vid);
  if (module == nullptr && vendor == nullptr) return std::nullopt;

  if (module != nullptr) {
    const std::string name(module->name);
    if (port.interface_number) {
      if (auto preference = module->at_interfaces.index_of(*port.interface_number)) {
        return AtPortCandidate{
            port.path, name,
            kPrimaryAtConfidence - static_cast<int>(*preference) * kConfidenceStepPerPreference,
            fmt::format("{} interface {} is its {} AT port", name, *port.interface_number,
                        *preference == 0 ? "primary" : "secondary")};
      }
      if (module->not_at_interfaces.index_of(*port.interface_number)) return std::nullopt;
    }
    return AtPortCandidate{port.path, name, kVendorPortConfidence,
                           fmt::format("{} {} is not a known AT port, worth a probe", name,
                                       interface_text(port.interface_number))};
  }

  const std::string name = fmt::format("{} (unknown model)", vendor->name);
  return AtPortCandidate{port.path, name, kVendorPortConfidence,
                         fmt::format("{} {:04x}:{:04x} {}, worth a probe", name, port.vid, port.pid,
                                     interface_text(port.interface_number))};
}

// bInterfaceNumber holds two hex digits and a newline, e.g. "02\n".
std::optional<int> read_interface_number(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return std::nullopt;
  const auto last = text.find_last_not_of(" \t\r");
  const std::string_view digits = std::string_view(text).substr(first, last - first + 1);
  int value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 16);
  if (ec != std::errc() || end != digits.data() + digits.size() || value < 0 || value > 255) {
    return std::nullopt;
  }
  return value;
}

std::string libserialport_error(sp_return rc) {
  if (rc == SP_ERR_FAIL) {
    char* message = sp_last_error_message();
    std::string text = message != nullptr ? message : "unknown error";
    sp_free_error_message(message);
    return text;
  }
  if (rc == SP_ERR_MEM) return "out of memory";
  return fmt::format("libserialport error {}", static_cast<int>(rc));
}

struct PortListDeleter {
  void operator()(sp_port** list) const { sp_free_port_list(list); }
};

}  // namespace

std::vector<AtPortCandidate> rank_at_ports(std::span<const UsbSerialPort> ports) {
  std::vector<AtPortCandidate> candidates;
  for (const UsbSerialPort& port : ports) {
    if (auto candidate = rank_one(port)) candidates.push_back(std::move(*candidate));
  }
  // Every field takes part in the order, so the result is the same whatever the input order.
  std::sort(candidates.begin(), candidates.end(), [](const AtPortCandidate& a, const AtPortCandidate& b) {
    if (a.confidence != b.confidence) return a.confidence > b.confidence;
    if (a.path != b.path) return natural_less(a.path, b.path);
    return std::tie(a.module, a.reason) < std::tie(b.module, b.reason);
  });
  // A path listed twice (it should not be) is probed once, at its best rank.
  std::set<std::string> seen;
  std::erase_if(candidates, [&seen](const AtPortCandidate& c) { return !seen.insert(c.path).second; });
  return candidates;
}

Outcome<std::vector<UsbSerialPort>> enumerate_usb_serial_ports() {
  sp_port** raw_list = nullptr;
  const sp_return rc = sp_list_ports(&raw_list);
  if (rc != SP_OK) {
    return Error{"cannot list serial ports: " + libserialport_error(rc) + " (is /sys mounted?)", 0};
  }
  const std::unique_ptr<sp_port*, PortListDeleter> list(raw_list);

  std::vector<UsbSerialPort> ports;
  for (sp_port** it = list.get(); *it != nullptr; ++it) {
    const sp_port* port = *it;
    if (sp_get_port_transport(port) != SP_TRANSPORT_USB) continue;
    const char* name = sp_get_port_name(port);
    if (name == nullptr) continue;

    UsbSerialPort usb;
    usb.path = name;
    int vid = 0;
    int pid = 0;
    if (sp_get_port_usb_vid_pid(port, &vid, &pid) == SP_OK) {
      usb.vid = static_cast<std::uint16_t>(vid);
      usb.pid = static_cast<std::uint16_t>(pid);
    }
    if (const char* description = sp_get_port_description(port)) usb.description = description;
    // libserialport knows the USB device but not which of its interfaces this tty belongs to.
    usb.interface_number =
        usb_interface_number("/sys/class/tty", std::filesystem::path(usb.path).filename().string());
    ports.push_back(std::move(usb));
  }
  std::sort(ports.begin(), ports.end(),
            [](const UsbSerialPort& a, const UsbSerialPort& b) { return natural_less(a.path, b.path); });
  return ports;
}

std::optional<int> usb_interface_number(const std::filesystem::path& sysfs_class_tty,
                                        const std::string& tty_name) {
  if (tty_name.empty() || tty_name == "." || tty_name == ".." || tty_name.find('/') != std::string::npos) {
    return std::nullopt;
  }
  // `device` is a symlink; its parent has to be taken after resolving it, not lexically.
  std::error_code ec;
  const std::filesystem::path device = std::filesystem::canonical(sysfs_class_tty / tty_name / "device", ec);
  if (ec) return std::nullopt;
  // ttyACM*: `device` is the USB interface itself. ttyUSB*: `device` is the usb-serial port, a
  // child of the interface.
  for (const std::filesystem::path& dir : {device, device.parent_path()}) {
    if (auto number = read_interface_number(dir / "bInterfaceNumber")) return number;
  }
  return std::nullopt;
}

}  // namespace modem
