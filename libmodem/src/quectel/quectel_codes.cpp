// What the module's numbers mean, in words a log line can carry and a person can act on.
#include "modem/quectel/quectel_at.hpp"

namespace modem::quectel {

// EC2x MQTT AN, Table 3 "Error Codes of the URC", with its "how to do" column.
const char* describe_qmtstat(int code) {
  switch (code) {
    case 1:
      return "connection closed or reset by peer; reopen the MQTT network (AT+QMTOPEN)";
    case 2:
      return "sending PINGREQ timed out or failed; deactivate and reactivate the PDP context, then reopen";
    case 3:
      return "sending CONNECT timed out or failed; check user name, password and that the client id is "
             "not in use, then reopen";
    case 4:
      return "receiving CONNACK timed out or failed; check user name, password and that the client id is "
             "not in use, then reopen";
    case 5:
      return "server closed the connection after our DISCONNECT; normal";
    case 6:
      return "closed by the client because sending kept failing; check the data, then reopen (network "
             "congestion or an error)";
    case 7:
      return "link not alive or server unavailable; make sure the link is up and the server reachable";
    case 8:
      // field-notes.md 2.3: seen in the field, "client-initiated disconnect" in EG800AK notes, and
      // reported once after a burst of QoS 1 publishes (field-notes.md 2.2).
      return "code 8, reserved in the EC2x AN (seen in the field: 'client-initiated disconnect', once after "
             "a "
             "QoS 1 burst); reopen";
    default:
      return "code not documented (reserved); reopen";
  }
}

// AT+QMTOPEN <result>, and the field guide (seed 000, pitfall 2) for 5.
const char* describe_qmtopen(int result) {
  switch (result) {
    case -1:
      return "failed to open network";
    case 0:
      return "network opened";
    case 1:
      return "wrong parameter";
    case 2:
      return "MQTT identifier is occupied (the client index is already open; close it first)";
    case 3:
      return "failed to activate PDP; deactivate and reactivate the PDP context";
    case 4:
      return "failed to parse domain name; check DNS and the host name";
    case 5:
      return "network connection error; check host and port, and whether the APN is IPv6-only (an "
             "IPv6-only APN gives this against an IPv4 broker: use an APN with IPv4)";
    default:
      return "result not documented";
  }
}

// MQTT 3.1.1 §3.2.2.3, as AT+QMTCONN <ret_code> reports them.
const char* describe_connack(int code) {
  switch (code) {
    case 0:
      return "connection accepted";
    case 1:
      return "connection refused: unacceptable protocol version";
    case 2:
      return "connection refused: identifier rejected";
    case 3:
      return "connection refused: server unavailable";
    case 4:
      return "connection refused: bad user name or password";
    case 5:
      return "connection refused: not authorized";
    default:
      return "connection refused: return code not defined by MQTT 3.1.1";
  }
}

// 3GPP TS 27.007 §7.2 / §10.1.19 / §10.1.22 <stat>.

}  // namespace modem::quectel
