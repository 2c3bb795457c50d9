#include "verdi/amqp/socket.h"

#include <cerrno>
#include <string>

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace verdi {
namespace {

constexpr char kSystemCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";

// A non-blocking TCP connection, `timeout_s` for each address of `host`.
// Done here rather than by librabbitmq so that errors carry the real errno
// (its connect loses it when the refusal comes asynchronously).
Status TcpConnect(const std::string& host, int port, int timeout_s, int* fd_out) {
  std::string where = "connect to " + HostPort(host, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &addrs);
  if (rc != 0) {
    if (rc == EAI_SYSTEM) return Status::IOError(where, errno);
    return Status::Failed(fmt::format("{}: cannot resolve {}: {}", where, host, gai_strerror(rc)));
  }
  int err = ECONNREFUSED;
  int one = 1;
  for (addrinfo* ai = addrs; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int n;
        do {
          n = poll(&p, 1, timeout_s * 1000);
        } while (n < 0 && errno == EINTR);
        socklen_t len = sizeof(err);
        if (n == 0) {
          err = ETIMEDOUT;
        } else if (n < 0) {
          err = errno;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
          err = errno;
        }
      }
      if (err != 0) {
        close(fd);
        continue;
      }
    }
    freeaddrinfo(addrs);
    *fd_out = fd;
    return Status::OK();
  }
  freeaddrinfo(addrs);
  return Status::IOError(where, err);
}

bool IsIpLiteral(const std::string& host) {
  unsigned char addr[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), addr) == 1 ||
         inet_pton(AF_INET6, host.c_str(), addr) == 1;
}

// The first certificate verification error of this thread's handshake:
// librabbitmq reports only "SSL peer cert verification failed", not why.
thread_local int tls_verify_error = X509_V_OK;

int RecordVerifyError(int ok, X509_STORE_CTX* store) {
  if (!ok && tls_verify_error == X509_V_OK) tls_verify_error = X509_STORE_CTX_get_error(store);
  return ok;  // librabbitmq verifies with SSL_VERIFY_NONE and checks the result after
}

Status ConfigureTls(amqp_socket_t* socket, const std::string& host, const AmqpTls& tls) {
  std::string ca = tls.ca_file;
  if (ca.empty() && tls.verify_peer && access(kSystemCaBundle, R_OK) == 0) ca = kSystemCaBundle;
  if (!ca.empty() && amqp_ssl_socket_set_cacert(socket, ca.c_str()) != AMQP_STATUS_OK) {
    return Status::Failed("TLS CA file " + ca + ": cannot be loaded");
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return Status::Invalid("TLS client certificate: give both the certificate and the key file");
  }
  if (!tls.cert_file.empty() && amqp_ssl_socket_set_key(socket, tls.cert_file.c_str(),
                                                        tls.key_file.c_str()) != AMQP_STATUS_OK) {
    return Status::Failed(fmt::format("TLS client certificate {} / key {}: cannot be loaded",
                                      tls.cert_file, tls.key_file));
  }
  auto* ctx = static_cast<SSL_CTX*>(amqp_ssl_socket_get_context(socket));
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, RecordVerifyError);
  bool verify_hostname = tls.verify_hostname;
  if (verify_hostname && tls.verify_peer && IsIpLiteral(host)) {
    // librabbitmq matches only the DNS names of a certificate, never its IP
    // addresses: have OpenSSL's verification, which verify_peer checks, do it.
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx), host.c_str()) != 1) {
      return Status::Failed("TLS: cannot verify the IP address " + host);
    }
    verify_hostname = false;
  }
  amqp_ssl_socket_set_verify_peer(socket, tls.verify_peer ? 1 : 0);
  amqp_ssl_socket_set_verify_hostname(socket, verify_hostname ? 1 : 0);
  return Status::OK();
}

}  // namespace

std::string HostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Status OpenAmqpSocket(amqp_connection_state_t conn, const AmqpUrl& url, const AmqpTls& tls) {
  if (!url.tls) {
    amqp_socket_t* socket = amqp_tcp_socket_new(conn);
    if (socket == nullptr) return Status::Failed("cannot create a socket");
    int fd = -1;
    VERDI_RETURN_IF_ERROR(TcpConnect(url.host, url.port, url.connect_timeout_seconds, &fd));
    amqp_tcp_socket_set_sockfd(socket, fd);
    return Status::OK();
  }
  amqp_socket_t* socket = amqp_ssl_socket_new(conn);
  if (socket == nullptr) return Status::Failed("cannot create a TLS socket");
  VERDI_RETURN_IF_ERROR(ConfigureTls(socket, url.host, tls));
  timeval timeout{url.connect_timeout_seconds, 0};
  tls_verify_error = X509_V_OK;
  int rc = amqp_socket_open_noblock(socket, url.host.c_str(), url.port, &timeout);
  int err = errno;
  if (rc == AMQP_STATUS_OK) return Status::OK();
  std::string what =
      fmt::format("connect to {}: {}", HostPort(url.host, url.port), amqp_error_string2(rc));
  if (rc == AMQP_STATUS_SSL_PEER_VERIFY_FAILED && tls_verify_error != X509_V_OK) {
    what += fmt::format(" ({})", X509_verify_cert_error_string(tls_verify_error));
  } else if (rc == AMQP_STATUS_SSL_CONNECTION_FAILED || rc == AMQP_STATUS_SSL_ERROR) {
    // librabbitmq keeps OpenSSL's reason (e.g. "wrong version number") to itself.
    std::string detail;
    while (unsigned long e = ERR_get_error()) {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      detail += (detail.empty() ? "" : "; ") + std::string(buf);
    }
    if (!detail.empty()) what += " (" + detail + ")";
  }
  if (rc == AMQP_STATUS_SOCKET_ERROR) {
    return Status::IOError(what, err == 0 || err == EINPROGRESS || err == EAGAIN ? EIO : err);
  }
  if (rc == AMQP_STATUS_TIMEOUT) return Status::IOError(what, ETIMEDOUT);
  return Status::Failed(what);
}

}  // namespace verdi
