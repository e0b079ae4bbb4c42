// Finding the module's AT port among the USB serial ports. A module exposes several ttys (diag,
// NMEA, AT, modem) whose order differs by model and by firmware, so ports are ranked from a table
// of known modules and the caller probes the candidates with "AT" in order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "modem/outcome.hpp"

namespace modem {

struct UsbSerialPort {
  std::string path;  // e.g. "/dev/ttyUSB2"
  std::uint16_t vid = 0;
  std::uint16_t pid = 0;
  std::optional<int> interface_number;  // bInterfaceNumber of the USB interface behind the tty
  std::string description;
};

struct AtPortCandidate {
  std::string path;
  std::string module;  // e.g. "Quectel EC200U" or "Quectel (unknown model)"
  int confidence;      // higher first
  std::string reason;  // one line for the log: why this port is a candidate
};

// Pure: the AT port candidates among `ports`, most likely first. Known AT interfaces of known
// modules come first (primary before secondary), then the other ports of known vendors that are
// not known to be something else (diag, NMEA, network), ordered by path. Ports of unknown vendors
// are left out. The result does not depend on the order of `ports`.
std::vector<AtPortCandidate> rank_at_ports(std::span<const UsbSerialPort> ports);

// The vendors whose modules discovery knows, for people: "Quectel or Fibocom".
std::string known_vendors();

// All USB serial ports of the system (libserialport plus sysfs for the interface number), ordered
// by path.
Outcome<std::vector<UsbSerialPort>> enumerate_usb_serial_ports();

// The USB interface number of tty `tty_name` (e.g. "ttyUSB2"), read from sysfs below
// `sysfs_class_tty` (production: "/sys/class/tty"); nullopt when it cannot be determined.
std::optional<int> usb_interface_number(const std::filesystem::path& sysfs_class_tty,
                                        const std::string& tty_name);

}  // namespace modem
