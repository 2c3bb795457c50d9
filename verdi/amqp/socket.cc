#include "verdi/amqp/socket.h"

#include <cerrno>
#include <chrono>
#include <string>

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "base/tcp_connect.h"

namespace verdi {
namespace {

constexpr char kSystemCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";

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

Status OpenAmqpSocket(amqp_connection_state_t conn, const AmqpUrl& url, const AmqpTls& tls) {
  if (!url.tls) {
    amqp_socket_t* socket = amqp_tcp_socket_new(conn);
    if (socket == nullptr) return Status::Failed("cannot create a socket");
    // Connected here rather than by librabbitmq so that errors carry the
    // real errno (its connect loses it when the refusal comes asynchronously).
    int fd = -1;
    VERDI_RETURN_IF_ERROR(
        ConnectTcp(url.host, url.port, std::chrono::seconds(url.connect_timeout_seconds), &fd));
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
