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
  /// Celery's broker_use_ssl: TLS even for an amqp:// URL.
  bool use_ssl = false;
  /// Seconds; negative: the URL's (or the default).
  double heartbeat = -1, connection_timeout = -1;

  /// The URL to connect to: amqps:// for use_ssl, and heartbeat= and
  /// connection_timeout= added to its query when set here and not there.
  std::string Url() const;
  /// The TLS settings for amqps:// URLs.
  AmqpTls Tls() const { return {ca, cert, key, !no_verify, !no_verify}; }
};

/// Adds -b/--broker (CELERY_BROKER_URL), --broker-ca, --broker-cert,
/// --broker-key, --broker-no-verify, --broker-use-ssl, --broker-heartbeat
/// and --broker-connection-timeout.
void AddBrokerFlags(CLI::App* cmd, BrokerFlags* flags);

}  // namespace verdi
