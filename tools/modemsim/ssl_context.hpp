// One SSL context of the module (AT+QSSLCFG <ctx> 0-5): which certificates from the file store a
// TLS connection uses and how strictly it checks the server. The defaults are a module's after
// boot; nothing of it survives a reboot (the files it names do, on UFS).
#pragma once

#include <cstdint>
#include <string>

namespace modemsim {

struct SslContext {
  static constexpr int kContexts = 6;  // <ctx> 0-5

  std::string cacert;  // file names as the host gave them ("UFS:ca.pem"); empty: none
  std::string clientcert;
  std::string clientkey;
  int seclevel = 0;    // 0 no verification, 1 verify the server, 2 also present the client certificate
  int sslversion = 4;  // 0 SSL 3.0, 1 TLS 1.0, 2 TLS 1.1, 3 TLS 1.2, 4 any
  std::uint16_t ciphersuite = 0xFFFF;  // 0XFFFF: every suite the stack has
  int ignorelocaltime = 1;             // 1: certificate validity is not checked against the clock
  int sni = 0;                         // 1: the host name goes out as SNI (off by default on BG95, 3.3)
};

}  // namespace modemsim
