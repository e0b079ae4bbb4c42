// A module family that exists only in the tests. Its MQTT commands and URCs are made up (AT+FX...,
// +FX...), so a session test that passes with it shows that the session drives whatever dialect it
// is given through the seam (dialect.hpp), and that the state machine, the recovery ladder, the
// backoff and the timers are the session's own. Only the V.250 / 27.007 basics are real: they are
// the session's and modem/gpp's, the same on every family.
//
// The fake family's wire protocol (answer_like_fake_family() makes a FakeModule speak it):
//   AT+FXATTACH=<cid>                   OK, or ERROR: the data connection up
//   AT+FXDETACH=<cid>                   OK
//   AT+FXCLEAN                          whatever: closes what a previous life left open
//   AT+FXCFG=<keepalive>                OK, or ERROR
//   AT+FXOPEN="<host>",<port>           OK, then +FXOPEN: <result>
//                                         0 open; 1 no data connection (cycle it); 2 broker unreachable
//   AT+FXCONN="<client id>"             OK, then +FXCONN: <result>,<connack>
//                                         result 0 and CONNACK 0: connected; CONNACK 1-5: refused
//   AT+FXSUB=<msgid>,"<filter>",<qos>   OK, then +FXSUB: <msgid>,<granted qos or 128>
//   AT+FXUNSUB=<msgid>,"<filter>"       OK
//   AT+FXDISC                           OK
//   AT+FXPUB=<msgid>,<qos>,<retain>,"<topic>",<length>
//                                       "> ", <length> bytes, OK, then +FXPUB: <msgid>,<result> (0 acked)
// and unprompted:
//   RDY                                 the module (re)started
//   +FXCLOSED: <code>                   the MQTT connection closed: 1 by the broker (reopen),
//                                         2 the network dropped it (check the link, cycle the data
//                                         connection), 3 the broker shut us out (reopen, never climbs)
//   +FXDATALOST                         the network took the data connection
//   +FXMSG: "<topic>","<payload>"       a message from the broker
#pragma once

#include <memory>

#include "modem/session/dialect.hpp"
#include "support/fake_module.hpp"

namespace test_support {

std::unique_ptr<modem::session::Dialect> make_fake_dialect();
// Replaces `module`'s replies with the fake family's answers to a whole bring-up (and the 27.007
// basics any module gives).
void answer_like_fake_family(FakeModule& module);

}  // namespace test_support
