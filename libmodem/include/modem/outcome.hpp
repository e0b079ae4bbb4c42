// A value or an error message, for operations whose failure a person has to act on
// (a serial device that cannot be opened, a baud rate the kernel does not know).
// C++20 has no std::expected; this is the small part of it the project needs.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace modem {

struct Error {
  std::string message;  // complete sentence naming the object and the cause, e.g. "/dev/ttyUSB2: busy"
  int errnum = 0;       // errno when the cause is a system call, else 0
};

template <typename T>
class [[nodiscard]] Outcome {
 public:
  Outcome(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Outcome(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const T& value() const& { return std::get<T>(state_); }
  const Error& error() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

}  // namespace modem
