#include "verdi/cli/broker_flags.h"

namespace verdi {

void AddBrokerFlags(CLI::App* cmd, BrokerFlags* flags) {
  cmd->add_option("-b,--broker", flags->url, "Broker URL, amqp:// or amqps://")
      ->envname("CELERY_BROKER_URL")
      ->capture_default_str();
  cmd->add_option("--broker-ca", flags->ca, "CA file for amqps://");
  cmd->add_option("--broker-cert", flags->cert, "Client certificate for amqps://");
  cmd->add_option("--broker-key", flags->key, "Client key for amqps://");
  cmd->add_flag("--broker-no-verify", flags->no_verify, "Do not verify the broker's certificate");
}

}  // namespace verdi
