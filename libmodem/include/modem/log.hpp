// Named loggers, one per layer (DESIGN.md: `at`, `session`, `bridge`, `spool`, `main`), so every
// line says where it comes from. A logger that does not exist yet is created with the sinks of
// spdlog's default logger, so whatever sink the program installed (stderr, journald) applies.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace modem {

std::shared_ptr<spdlog::logger> logger(const std::string& name);

// Escapes a byte string for a log line: printable ASCII as is, everything else as \r, \n, \xNN.
// Long strings are cut at `max_bytes` with the total size noted, so one payload cannot flood a log.
std::string printable(std::string_view bytes, std::size_t max_bytes = 120);

}  // namespace modem
