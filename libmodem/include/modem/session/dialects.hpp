// The module families this build can drive, and how one is chosen, as gpsd picks a driver from
// its driver table: by the [modem] model setting, or ("auto") by what the module says in ATI,
// helped by what USB discovery knew it as. The daemon and the configuration checks ask here, so
// they never include a family's header.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modem/gpp/gpp.hpp"
#include "modem/session/dialect.hpp"
#include "modem/session/session_config.hpp"

namespace modem::session {

// The [modem] model values that name a dialect: "quectel-ec200u", "quectel-ec2x", ...
std::vector<std::string_view> dialect_names();
// What a [modem] model value means: the dialect name for a name or an alias ("ec200u" is
// "quectel-ec200u"); "auto" for "auto"; nullopt when it names nothing this build knows.
std::optional<std::string_view> canonical_model(std::string_view model);
// For a model a later release will drive ("quectel-bc20", "fibocom-mc66x"), the words that say
// so; nullopt otherwise.
std::optional<std::string> model_not_supported_yet(std::string_view model);

// The dialect called `name` (a canonical name), or nullptr.
std::unique_ptr<Dialect> make_dialect(std::string_view name);
// For "auto": the dialect of the module that reported `identity` in ATI or, when ATI names no
// module this build knows, the one USB discovery called `usb_hint` ("Quectel EC25"). nullopt: none.
std::optional<std::string_view> detect_dialect(const gpp::Identity& identity, std::string_view usb_hint);
// The dialect a session starts with before the module has said what it is: the configured one,
// the USB hint's, else the EC200U's (the module cellmqttd was first made for).
std::string_view initial_dialect(std::string_view model, std::string_view usb_hint);

// Why `value` cannot go into the commands of the module `model` names ("auto": of any module this
// build drives, so a configuration works whatever is plugged in), or nullopt.
std::optional<std::string> check_setting(std::string_view model, Setting setting, std::string_view value);
// Every problem of `config` for the module it names, or for `dialect`, one line each.
std::vector<std::string> check_session_config(const SessionConfig& config);
std::vector<std::string> check_session_config(const SessionConfig& config, const Dialect& dialect);
// The largest PDP context id a module `model` names takes ("auto": what every family takes).
int max_context_id(std::string_view model);
// The longest topic a module `model` names takes ("auto": the longest of all families).
std::size_t max_topic(std::string_view model);
// The largest payload a module `model` names can publish ("auto": the largest of all families, so
// nothing another module could carry is refused before the module is known).
std::size_t max_payload(std::string_view model);
// The largest PEM file (a CA bundle, a certificate, a key) a module `model` names takes ("auto":
// the smallest limit of the families that do TLS); 0 when it cannot do TLS.
std::size_t max_tls_file(std::string_view model);
// Why a publish can never go through the module `model` names ("auto": through any), or nullopt.
std::optional<std::string> check_publish(std::string_view model, std::string_view topic,
                                         std::size_t payload_size);

}  // namespace modem::session
