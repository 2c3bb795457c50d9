#include "redis/net_stream.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/tcp_connect.h"

namespace verdi {
namespace {

// --- A BIO over our non-blocking socket with send(MSG_NOSIGNAL): a server
// that went away never raises SIGPIPE (OpenSSL's socket BIO uses write(2)).

int SocketOf(BIO* bio) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio))); }

bool WouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

int BioWrite(BIO* bio, const char* data, int len) {
  BIO_clear_retry_flags(bio);
  ssize_t n = send(SocketOf(bio), data, static_cast<size_t>(len), MSG_NOSIGNAL);
  if (n < 0 && WouldBlock(errno)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

int BioRead(BIO* bio, char* data, int len) {
  BIO_clear_retry_flags(bio);
  ssize_t n = recv(SocketOf(bio), data, static_cast<size_t>(len), 0);
  if (n < 0 && WouldBlock(errno)) BIO_set_retry_read(bio);
  return static_cast<int>(n);
}

long BioCtrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int BioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO* NewSocketBio(int fd) {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "verdi-socket");
    BIO_meth_set_write(m, BioWrite);
    BIO_meth_set_read(m, BioRead);
    BIO_meth_set_ctrl(m, BioCtrl);
    BIO_meth_set_create(m, BioCreate);
    return m;
  }();
  BIO* bio = BIO_new(method);
  if (bio != nullptr) BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  return bio;
}

/// OpenSSL's error queue as text (and emptied), e.g.
/// "error:0A000086:SSL routines::certificate verify failed".
std::string SslErrors() {
  std::string text;
  while (unsigned long err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text.empty() ? "unknown TLS error" : text;
}

}  // namespace

void NetStream::Close() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // frees the BIO too
  ssl_ = nullptr;
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  ssl_ctx_ = nullptr;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

Status NetStream::Fail(Status status) {
  Close();
  return status;
}

void NetStream::Open(int fd, const std::string& name, std::chrono::milliseconds timeout) {
  Close();
  fd_ = fd;
  name_ = name;
  timeout_ = timeout;
}

Status NetStream::StartTls(const TlsOptions& options, Clock::time_point deadline) {
  ERR_clear_error();
  ssl_ctx_ = SSL_CTX_new(TLS_client_method());
  if (ssl_ctx_ == nullptr) return Fail(Status::Failed(name_ + ": TLS setup: " + SslErrors()));
  SSL_CTX_set_min_proto_version(ssl_ctx_, TLS1_2_VERSION);
  SSL_CTX_set_mode(ssl_ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (options.verify_peer) {
    SSL_CTX_set_verify(ssl_ctx_, SSL_VERIFY_PEER, nullptr);
    const std::string& ca = options.ca_file;
    int loaded = ca.empty() ? SSL_CTX_set_default_verify_paths(ssl_ctx_)
                            : SSL_CTX_load_verify_locations(ssl_ctx_, ca.c_str(), nullptr);
    if (loaded != 1) {
      return Fail(Status::Invalid(fmt::format("CA file '{}': cannot load: {}",
                                              ca.empty() ? "(system default)" : ca, SslErrors())));
    }
  } else {
    SSL_CTX_set_verify(ssl_ctx_, SSL_VERIFY_NONE, nullptr);
  }
  if (!options.cert_file.empty()) {
    const std::string& key = options.key_file.empty() ? options.cert_file : options.key_file;
    if (SSL_CTX_use_certificate_chain_file(ssl_ctx_, options.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ssl_ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return Fail(Status::Invalid(fmt::format("client certificate '{}' / key '{}': {}",
                                              options.cert_file, key, SslErrors())));
    }
  }

  ssl_ = SSL_new(ssl_ctx_);
  BIO* bio = ssl_ == nullptr ? nullptr : NewSocketBio(fd_);
  if (bio == nullptr) return Fail(Status::Failed(name_ + ": TLS setup: " + SslErrors()));
  SSL_set_bio(ssl_, bio, bio);
  const std::string& host = options.server_name;
  bool ip = IsIpLiteral(host);
  if (!ip && !host.empty()) SSL_set_tlsext_host_name(ssl_, host.c_str());
  if (options.verify_peer) {
    SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str())
                 : SSL_set1_host(ssl_, host.c_str());
    if (set != 1) return Fail(Status::Failed(name_ + ": TLS setup: " + SslErrors()));
  }
  while (true) {
    ERR_clear_error();
    int rc = SSL_connect(ssl_);
    if (rc == 1) return Status::OK();
    VERDI_RETURN_IF_ERROR(HandleTlsResult(rc, errno, "TLS handshake", deadline));
  }
}

Status NetStream::HandleTlsResult(int rc, int saved_errno, const char* doing,
                                  Clock::time_point deadline) {
  int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    return WaitFor(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, doing);
  }
  if (err == SSL_ERROR_SSL) {
    std::string what = fmt::format("{}: {} failed: {}", name_, doing, SslErrors());
    long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) what += fmt::format(" ({})", X509_verify_cert_error_string(verify));
    return Fail(Status::IOError(what, EPROTO));
  }
  if (err == SSL_ERROR_ZERO_RETURN || saved_errno == 0) {
    return Fail(Status::IOError(name_ + ": connection closed by the server", ECONNRESET));
  }
  return Fail(Status::IOError(fmt::format("{}: {}", name_, doing), saved_errno));
}

Status NetStream::WaitFor(short events, Clock::time_point deadline, const char* doing) {
  while (true) {
    Clock::time_point now = Clock::now();
    if (now >= deadline) {
      return Fail(Status::IOError(
          fmt::format("{}: {} took more than {} ms", name_, doing, timeout_.count()), ETIMEDOUT));
    }
    pollfd pfd{fd_, events, 0};
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    int rc = poll(&pfd, 1, static_cast<int>(left.count()));
    if (rc > 0) return Status::OK();  // ready, or an error the next call reports
    if (rc < 0 && errno != EINTR) return Fail(Status::IOError(name_ + ": poll", errno));
  }
}

Status NetStream::WriteAll(std::string_view bytes, Clock::time_point deadline) {
  if (!open()) return Status::IOError(name_ + ": not connected", ENOTCONN);
  while (!bytes.empty()) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int n =
          SSL_write(ssl_, bytes.data(), static_cast<int>(std::min<size_t>(bytes.size(), 1 << 30)));
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
      } else {
        VERDI_RETURN_IF_ERROR(HandleTlsResult(n, errno, "sending", deadline));
      }
      continue;
    }
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      VERDI_RETURN_IF_ERROR(WaitFor(POLLOUT, deadline, "sending"));
    } else if (errno != EINTR) {
      return Fail(Status::IOError(name_ + ": send", errno));
    }
  }
  return Status::OK();
}

Status NetStream::ReadSome(char* buf, size_t size, size_t* got, Clock::time_point deadline) {
  if (!open()) return Status::IOError(name_ + ": not connected", ENOTCONN);
  while (true) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int n = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(size, 1 << 30)));
      if (n > 0) {
        *got = static_cast<size_t>(n);
        return Status::OK();
      }
      VERDI_RETURN_IF_ERROR(HandleTlsResult(n, errno, "waiting for a reply", deadline));
      continue;
    }
    ssize_t n = recv(fd_, buf, size, 0);
    if (n > 0) {
      *got = static_cast<size_t>(n);
      return Status::OK();
    }
    if (n == 0) {
      return Fail(Status::IOError(name_ + ": connection closed by the server", ECONNRESET));
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      VERDI_RETURN_IF_ERROR(WaitFor(POLLIN, deadline, "waiting for a reply"));
    } else if (errno != EINTR) {
      return Fail(Status::IOError(name_ + ": receive", errno));
    }
  }
}

}  // namespace verdi
