#include "modem/session/types.hpp"

namespace modem::session {

const char* to_string(State state) {
  switch (state) {
    case State::kStopped:
      return "stopped";
    case State::kProbing:
      return "probing";
    case State::kIdentifying:
      return "identifying";
    case State::kSimError:
      return "sim-error";
    case State::kRegistering:
      return "registering";
    case State::kActivatingPdp:
      return "activating-pdp";
    case State::kCleaningUp:
      return "cleaning-up";
    case State::kSecuring:
      return "securing";
    case State::kConfiguringMqtt:
      return "configuring-mqtt";
    case State::kOpening:
      return "opening";
    case State::kConnecting:
      return "connecting";
    case State::kSubscribing:
      return "subscribing";
    case State::kReady:
      return "ready";
    case State::kWaiting:
      return "waiting";
    case State::kCyclingPdp:
      return "cycling-pdp";
    case State::kCyclingRadio:
      return "cycling-radio";
    case State::kRebooting:
      return "rebooting";
    case State::kStopping:
      return "stopping";
  }
  return "?";
}

const char* to_string(Event event) {
  switch (event) {
    case Event::kStart:
      return "start";
    case Event::kStop:
      return "stop";
    case Event::kStepsDone:
      return "steps-done";
    case Event::kStepFailed:
      return "step-failed";
    case Event::kTimer:
      return "timer";
    case Event::kModuleBooted:
      return "module-booted";
    case Event::kRegistered:
      return "registered";
    case Event::kPdpDeactivated:
      return "pdp-deactivated";
    case Event::kMqttClosed:
      return "mqtt-closed";
    case Event::kChannelStuck:
      return "channel-stuck";
    case Event::kChannelClosed:
      return "channel-closed";
  }
  return "?";
}

const char* to_string(Rung rung) {
  switch (rung) {
    case Rung::kReopen:
      return "reopen the MQTT network";
    case Rung::kCyclePdp:
      return "cycle the PDP context";
    case Rung::kCycleRadio:
      return "cycle the radio (AT+CFUN=0/1)";
    case Rung::kReboot:
      return "reset the module (AT+CFUN=1,1)";
  }
  return "?";
}

}  // namespace modem::session
