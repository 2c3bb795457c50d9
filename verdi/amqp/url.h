// Broker URLs as Celery/kombu accept them: amqp://user:password@host:port/vhost.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace verdi {

/// Where and how to connect to an AMQP broker.
struct AmqpUrl {
  bool tls = false;
  std::string host = "localhost";
  int port = 5672;  // 5671 for amqps
  std::string user = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  int heartbeat_seconds = 60;  // 0: no heartbeats
  int connect_timeout_seconds = 10;
};

/// Parses `amqp://[user[:password]@]host[:port][/vhost][?query]` (also
/// `amqps://`, TLS, default port 5671, and `pyamqp://`, Celery's alias of
/// amqp://). As kombu does:
/// - user, password and vhost are percent-decoded; an empty user or password
///   keeps the default ("guest");
/// - the vhost is the path without its first "/": `amqp://h//` is "/",
///   `amqp://h/v` is "v", and `amqp://h/` and `amqp://h` are "/";
/// - an empty host is "localhost"; an IPv6 host is written `[::1]`;
/// - query `heartbeat=N` (seconds, 0 = none) and `connection_timeout=S`
///   (seconds, fractions rounded up); other query parameters (kombu transport
///   options such as `ssl`) are ignored.
/// Errors are Invalid and start with the URL, password redacted.
Status ParseAmqpUrl(std::string_view url, AmqpUrl* out);

}  // namespace verdi
