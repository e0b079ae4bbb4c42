// What a TLS connection of the module is checked against, as its SSL context (AT+QSSLCFG) says:
// made into an OpenSSL client context from the files in the store, for a connection to `host`
// (the name AT+QMTOPEN gave, whatever address modemsim really connects to) at the module's time.
//
//   seclevel 0      no verification at all
//   seclevel 1      the server's chain against "cacert", its name against `host` (a DNS name, or
//                   an address against the certificate's IP entries), and its validity against
//                   the module's clock unless "ignorelocaltime" is 1
//   seclevel 2      the same, and "clientcert" with "clientkey" presented to the server
//   sslversion 3    TLS 1.2 only; anything else: any version the stack has
//   sni 1           `host` goes out as SNI, when it is a name
//
// The modules' TLS stacks stop at TLS 1.2 (sslversion has no TLS 1.3 value), so this one does too:
// it also means a server that refuses the client certificate does so within the handshake, where
// AT+QMTOPEN reports it, as TLS 1.3 would only after it.
#pragma once

#include <chrono>
#include <string>

#include "file_store.hpp"
#include "modem/outcome.hpp"
#include "ssl_context.hpp"
#include "tls_handshake.hpp"

namespace modemsim {

// An error names what is wrong for a person reading the log: "no cacert file UFS:ca.pem in the
// store", "client key UFS:k.pem does not match the client certificate UFS:c.pem".
modem::Outcome<TlsClientConfig> make_tls_client(const SslContext& context, const FileStore& files,
                                                const std::string& host, std::chrono::sys_seconds module_utc);

// Whether `host` is a numeric IPv4 or IPv6 address rather than a name.
bool is_ip_address(const std::string& host);

}  // namespace modemsim
