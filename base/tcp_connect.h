// One way to open a TCP connection: resolve, then connect without blocking
// past a timeout, with errors that name the endpoint and the errno
// ("connect to host:port: Connection refused").
#pragma once

#include <chrono>
#include <string>

#include "base/status.h"

namespace verdi {

/// "host:port", or "[addr]:port" for an IPv6 address.
std::string HostPort(const std::string& host, int port);

/// Whether `host` is an IPv4 or IPv6 address rather than a name (TLS checks
/// an address against the certificate's IP entries, and sends no SNI).
bool IsIpLiteral(const std::string& host);

/// Connects to the first address of `host` that accepts, all of them within
/// `timeout` together. On success *fd is the caller's: a non-blocking,
/// close-on-exec socket with TCP_NODELAY and SO_KEEPALIVE. Errors start with
/// "connect to host:port": IOError with the errno when the system refused
/// (": Connection refused") or time ran out (": took more than N ms:
/// Connection timed out"); Failed when the name does not resolve
/// (": cannot resolve host: <reason>").
Status ConnectTcp(const std::string& host, int port, std::chrono::milliseconds timeout, int* fd);

}  // namespace verdi
