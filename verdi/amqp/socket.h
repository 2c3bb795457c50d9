// The socket under an AmqpLink: plain TCP or TLS, connected within the URL's
// timeout, with errors that say why.
#pragma once

#include <string>

#include <amqp.h>

#include "base/status.h"
#include "verdi/amqp/url.h"

namespace verdi {

/// TLS settings for amqps:// URLs (ignored for amqp://).
struct AmqpTls {
  std::string ca_file;              // empty: /etc/ssl/certs/ca-certificates.crt when it exists
  std::string cert_file, key_file;  // client certificate: both or neither
  bool verify_peer = true, verify_hostname = true;
};

/// Creates the socket of `conn` (TLS for url.tls, with `tls`) and connects
/// it to url.host:url.port within url.connect_timeout_seconds (ConnectTcp for
/// amqp://; librabbitmq's own connect for amqps://). Errors start with
/// "connect to host:port": IOError with the errno when the system refused
/// (e.g. "Connection refused") or time ran out, Failed otherwise (name
/// resolution, TLS handshake or certificate verification).
Status OpenAmqpSocket(amqp_connection_state_t conn, const AmqpUrl& url, const AmqpTls& tls);

}  // namespace verdi
