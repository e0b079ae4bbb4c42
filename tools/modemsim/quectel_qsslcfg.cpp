// AT+QSSLCFG="<option>",<ctx>[,<value>]: the SSL contexts (field-notes.md 3.1, 3.2). With a value
// it sets the option and answers OK; without, it answers +QSSLCFG: "<option>",<ctx>,<value> and OK,
// file names quoted, numbers plain, the cipher suite as 0X and four hex digits. An unknown option,
// a context outside 0-5 or a value out of range is a bare ERROR, and so is a quoted cipher suite:
// the field saw "0XFFFF" in quotes refused (field-notes.md 3.1, catm1_bg96 issue 9).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cctype>

#include "at_server.hpp"
#include "quectel_personality.hpp"

namespace modemsim {

namespace {

// "0XFFFF", "0xffff", "0X35": unquoted, 0x and one to four hex digits.
std::optional<std::uint16_t> cipher_suite(const AtCommandLine& command, std::size_t i) {
  if (i >= command.count() || command.quoted(i)) return std::nullopt;
  const std::string& text = command.args[i].text;
  if (text.size() < 3 || text.size() > 6 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
    return std::nullopt;
  unsigned value = 0;
  for (std::size_t k = 2; k < text.size(); ++k) {
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(text[k])));
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    value = value * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return static_cast<std::uint16_t>(value);
}

std::optional<int> plain_number(const AtCommandLine& command, std::size_t i, long lo, long hi) {
  const auto v = command.integer(i);
  if (!v || *v < lo || *v > hi) return std::nullopt;
  return static_cast<int>(*v);
}

}  // namespace

void QuectelPersonality::qsslcfg(const AtCommandLine& command, const std::shared_ptr<Reply>& reply) {
  if (command.form == AtCommandLine::Form::kTest) {
    reply->ok();
    return;
  }
  std::string option = command.string(0).value_or("");
  for (char& c : option)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto ctx = plain_number(command, 1, 0, SslContext::kContexts - 1);
  if (command.form != AtCommandLine::Form::kWrite || !ctx || command.count() > 3) return reply->error();
  SslContext& context = ssl_contexts_[static_cast<std::size_t>(*ctx)];
  const bool query = command.count() == 2;
  const std::string head = fmt::format("+QSSLCFG: \"{}\",{},", option, *ctx);

  auto file = [&](std::string& name) {
    if (query) {
      reply->line(head + "\"" + name + "\"");
    } else if (command.quoted(2)) {
      name = *command.string(2);  // a file that is not (yet) there is accepted: the handshake fails
    } else {
      return reply->error();
    }
    reply->ok();
  };
  auto number = [&](int& value, long lo, long hi) {
    if (query) {
      reply->line(head + std::to_string(value));
    } else if (const auto v = plain_number(command, 2, lo, hi)) {
      value = *v;
    } else {
      return reply->error();
    }
    reply->ok();
  };

  if (option == "cacert") return file(context.cacert);
  if (option == "clientcert") return file(context.clientcert);
  if (option == "clientkey") return file(context.clientkey);
  if (option == "seclevel") return number(context.seclevel, 0, 2);
  if (option == "ignorelocaltime") return number(context.ignorelocaltime, 0, 1);
  if (option == "sni") return number(context.sni, 0, 1);
  if (option == "sslversion") {
    if (const auto old = plain_number(command, 2, 0, 2); !query && old) {
      // SSL 3.0, TLS 1.0 and TLS 1.1 alone: today's OpenSSL and brokers refuse them, so the
      // context takes any version up to TLS 1.2, and says so.
      spdlog::warn("AT+QSSLCFG=\"sslversion\",{},{}: played as 4 (any version up to TLS 1.2)", *ctx, *old);
    }
    return number(context.sslversion, 0, 4);
  }
  if (option == "ciphersuite") {
    if (query) {
      reply->line(head + fmt::format("0X{:04X}", context.ciphersuite));
    } else if (const auto suite = cipher_suite(command, 2)) {
      context.ciphersuite = *suite;
    } else {
      return reply->error();
    }
    return reply->ok();
  }
  reply->error();
}

}  // namespace modemsim
