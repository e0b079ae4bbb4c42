// Log setup: named loggers per layer (at, session, bridge, spool, main). Under systemd, when
// stderr is the journal (JOURNAL_STREAM names stderr's device and inode, systemd.exec(5)), lines go
// natively to journald with their priority; otherwise to stderr.
#pragma once

#include <string>

namespace cellmqttd {

// Installs the sink for every logger, present and future. Returns false for an unknown level.
bool setup_logging(const std::string& level, bool at_trace, bool verbose);
// Applies a new level (SIGHUP) without touching the sink.
bool apply_log_level(const std::string& level, bool at_trace, bool verbose);
bool stderr_is_journal();

}  // namespace cellmqttd
