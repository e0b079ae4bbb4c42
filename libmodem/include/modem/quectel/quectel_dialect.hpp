// The Quectel QMT families (EC200U, EC2x/EG9x/EM05, EC200x/EC600x/EG912Y) behind the session's
// dialect seam: the stages of a bring-up as scripts of quectel_at.hpp's commands, what their
// answers mean (typed failures, the ladder rung a +QMTOPEN or +QMTSTAT code points to), and the
// URCs. One class for the families; the differences are a Variant row (quectel_variants.hpp).
#pragma once

#include <memory>

#include "modem/quectel/quectel_variants.hpp"
#include "modem/session/dialect.hpp"

namespace modem::quectel {

class QuectelDialect final : public session::Dialect {
 public:
  explicit QuectelDialect(const Variant& variant);

  std::string_view name() const override { return variant_.name; }
  std::string_view family() const override { return variant_.family; }
  const session::Capabilities& caps() const override { return caps_; }
  const Variant& variant() const { return variant_; }

  std::optional<std::string> check_setting(session::Setting setting, std::string_view value) const override;
  std::optional<std::string> check_publish(std::string_view topic, std::size_t payload_size) const override;

  session::Script identify() const override;
  session::Script attach(const session::SessionConfig& config) const override;
  session::Script detach(const session::SessionConfig& config) const override;
  session::Script cleanup(const session::SessionConfig& config) const override;
  session::Script secure(const session::SessionConfig& config) const override;
  session::Script configure(const session::SessionConfig& config) const override;
  session::Script open(const session::SessionConfig& config) const override;
  session::Script connect(const session::SessionConfig& config, const std::string& client_id) const override;
  session::Step subscribe(const session::SessionConfig& config, int msgid, const std::string& filter,
                          int qos) const override;
  at::Command unsubscribe(const session::SessionConfig& config, int msgid,
                          const std::vector<std::string>& filters) const override;
  at::Command disconnect(const session::SessionConfig& config) const override;
  session::Script health() const override;
  session::Step connection_alive(const session::SessionConfig& config) const override;

  at::Command publish(const session::PublishRequest& request) const override;
  session::PublishOutcome publish_outcome(const at::Result& result) const override;
  void abandon_publishes(at::Channel& channel) const override;
  at::Command read_message(const session::SessionConfig& config, int slot) const override;

  std::unique_ptr<session::DialectLink> install(at::Channel& channel, const session::SessionConfig& config,
                                                session::DialectEvents events) const override;

 private:
  const Variant& variant_;
  session::Capabilities caps_;
};

}  // namespace modem::quectel
