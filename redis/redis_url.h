// Redis URLs as Celery, redis-py and HySDS write them:
// redis://[[user]:password@]host[:port][/db][?options] and rediss:// for TLS.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace verdi {

/// The parts of a Redis URL. Credentials are percent-decoded.
struct RedisUrl {
  bool tls = false;  // rediss://
  std::string host = "localhost";
  int port = 6379;
  int db = 0;
  std::string username;
  std::string password;
  /// false with ?ssl_cert_reqs=none|CERT_NONE (HySDS turns certificate checks
  /// off this way); only meaningful for rediss://.
  bool verify_peer = true;
  /// ?ssl_ca_certs=, ?ssl_certfile=, ?ssl_keyfile= (redis-py's names); empty
  /// when not given.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

/// Parses `url`. Query options other than db, ssl_cert_reqs, ssl_ca_certs,
/// ssl_certfile and ssl_keyfile are ignored (redis-py's socket options and
/// the like). Errors are Invalid and name the URL with its password redacted.
Status ParseRedisUrl(std::string_view url, RedisUrl* out);

}  // namespace verdi
