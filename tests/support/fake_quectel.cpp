#include "support/fake_quectel.hpp"

#include <fmt/format.h>

namespace test_support {

FakeQuectel::FakeQuectel(ScriptedStream& stream) : FakeModule(stream) {
  const auto ok = [](std::string_view lines = {}) { return ok_reply(lines); };
  on("AT", ok());
  on("ATI", ok("Quectel\r\nEC200U\r\nRevision: EC200UCNAAR02A05M08"));
  on("AT+CGSN", ok("866123456789012"));
  on("AT+CPIN?", ok("+CPIN: READY"));
  on("AT+QCCID", ok("+QCCID: 89860318760239587428"));
  on("AT+CIMI", ok("460001234567890"));
  on("AT+CEREG?", ok("+CEREG: 2,1,\"1A2B\",\"01234567\",7"));
  on("AT+CGREG?", ok("+CGREG: 2,1,\"1A2B\",\"01234567\",7"));
  on("AT+QIACT?", ok("+QIACT: 1,1,1,\"10.64.12.7\""));
  on("AT+QMTDISC", "\r\nERROR\r\n");  // nothing left open from a previous life
  on("AT+QMTCLOSE", "\r\nERROR\r\n");
  on("AT+QMTOPEN=", [ok](const std::string& c) {
    return ok() + fmt::format("\r\n+QMTOPEN: {},0\r\n", field_number(command_fields(c), 0));
  });
  on("AT+QMTCONN=", [ok](const std::string& c) {
    return ok() + fmt::format("\r\n+QMTCONN: {},0,0\r\n", field_number(command_fields(c), 0));
  });
  on("AT+QMTSUB=", [ok](const std::string& c) {
    const auto f = command_fields(c);
    return ok() + fmt::format("\r\n+QMTSUB: {},{},0,{}\r\n", field_number(f, 0), field_number(f, 1),
                              field_number(f, 3));
  });
  on("AT+QMTUNS=", [ok](const std::string& c) {
    const auto f = command_fields(c);
    return ok() + fmt::format("\r\n+QMTUNS: {},{},0\r\n", field_number(f, 0), field_number(f, 1));
  });
  on("AT+QMTCONN?", ok("+QMTCONN: 0,3"));  // connected (a test that drops it overrides this)
  on("AT+CSQ", ok("+CSQ: 24,0"));
  on("AT+COPS?", ok("+COPS: 0,0,\"CHINA MOBILE\",7"));
  on("AT+QNWINFO", ok("+QNWINFO: \"FDD LTE\",\"46000\",\"LTE BAND 3\",1650"));
  on("AT+QMTRECV=", ok());  // nothing buffered
  // AT+QMTPUBEX=<idx>,<msgid>,<qos>,<retain>,"<topic>",<length>
  on_data("AT+QMTPUBEX=",
          {[](const std::string& c) { return static_cast<std::size_t>(field_number(command_fields(c), 5)); },
           [](const std::string& c) {
             const auto f = command_fields(c);
             return fmt::format("+QMTPUBEX: {},{},0", field_number(f, 0), field_number(f, 1));
           }});
}

}  // namespace test_support
