#include "verdi/cli/broker_flags.h"

#include <cmath>

#include <fmt/format.h>

namespace verdi {

std::string BrokerFlags::Url() const {
  std::string out = url;
  size_t scheme = out.find("://");
  if (use_ssl && scheme != std::string::npos &&
      (out.compare(0, scheme, "amqp") == 0 || out.compare(0, scheme, "pyamqp") == 0))
    out = "amqps" + out.substr(scheme);
  size_t query = out.find('?');
  auto has = [&](std::string_view key) {
    return query != std::string::npos &&
           (out.find(fmt::format("?{}=", key), query) != std::string::npos ||
            out.find(fmt::format("&{}=", key), query) != std::string::npos);
  };
  auto add = [&](std::string_view key, double value) {
    if (value < 0 || has(key)) return;
    out += fmt::format("{}{}={}", out.find('?') == std::string::npos ? '?' : '&', key,
                       static_cast<int64_t>(std::ceil(value)));
  };
  add("heartbeat", heartbeat);
  add("connection_timeout", connection_timeout);
  return out;
}

void AddBrokerFlags(CLI::App* cmd, BrokerFlags* flags) {
  cmd->add_option("-b,--broker", flags->url, "Broker URL, amqp:// or amqps://")
      ->envname("CELERY_BROKER_URL")
      ->capture_default_str();
  cmd->add_option("--broker-ca", flags->ca, "CA file for amqps://");
  cmd->add_option("--broker-cert", flags->cert, "Client certificate for amqps://");
  cmd->add_option("--broker-key", flags->key, "Client key for amqps://");
  cmd->add_flag("--broker-no-verify", flags->no_verify, "Do not verify the broker's certificate");
  cmd->add_flag("--broker-use-ssl", flags->use_ssl,
                "TLS even for an amqp:// URL (Celery's broker_use_ssl)");
  cmd->add_option("--broker-heartbeat", flags->heartbeat,
                  "AMQP heartbeat in seconds, 0: none (default: the URL's heartbeat=, else 60)")
      ->check(CLI::Range(0.0, 65535.0));
  cmd->add_option("--broker-connection-timeout", flags->connection_timeout,
                  "Seconds to connect to the broker (default: the URL's connection_timeout=, "
                  "else 10)")
      ->check(CLI::Range(0.001, 86400.0));
}

}  // namespace verdi
