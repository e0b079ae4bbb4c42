// A FakeModule that answers a bring-up the way an EC200U does (the replies modemsim and the
// application notes give, seeds/001 and 002 for the QMT set); a test overrides any of them by
// command prefix. A publish's payload follows AT+QMTPUBEX's prompt and is acknowledged with
// +QMTPUBEX: <idx>,<msgid>,0.
#pragma once

#include "support/fake_module.hpp"

namespace test_support {

class FakeQuectel : public FakeModule {
 public:
  explicit FakeQuectel(ScriptedStream& stream);
};

}  // namespace test_support
