// The broker flags every command that talks to RabbitMQ takes.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "verdi/amqp/link.h"

namespace verdi {

struct BrokerFlags {
  std::string url = "amqp://guest:guest@localhost:5672//";
  std::string ca, cert, key;
  bool no_verify = false;

  /// The TLS settings for amqps:// URLs.
  AmqpTls Tls() const { return {ca, cert, key, !no_verify, !no_verify}; }
};

/// Adds -b/--broker (CELERY_BROKER_URL), --broker-ca, --broker-cert,
/// --broker-key and --broker-no-verify.
void AddBrokerFlags(CLI::App* cmd, BrokerFlags* flags);

}  // namespace verdi
