// A client byte stream to a server over a connected TCP socket, optionally
// with TLS (OpenSSL) on top, every call bounded by a deadline. Never raises
// SIGPIPE.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace verdi {

struct TlsOptions {
  /// Checked against the certificate (DNS name or IP address) and sent as
  /// SNI (DNS names only).
  std::string server_name;
  /// Certificate chain and host name checks; off = any certificate.
  bool verify_peer = true;
  /// PEM file of trusted CAs; empty: the system's default CAs.
  std::string ca_file;
  /// Client certificate chain and key (PEM); key_file empty: in cert_file.
  std::string cert_file;
  std::string key_file;
};

/// NOT thread-safe. Any failure closes the stream (open() turns false).
/// Messages start with the `name` given to Open ("redis host:port").
class NetStream {
 public:
  using Clock = std::chrono::steady_clock;

  NetStream() = default;
  ~NetStream() { Close(); }
  NetStream(const NetStream&) = delete;
  NetStream& operator=(const NetStream&) = delete;

  /// Takes over `fd`, a connected non-blocking socket (ConnectTcp), closing
  /// any previous one. `timeout` is what the deadlines are made of, for
  /// messages ("took more than N ms").
  void Open(int fd, const std::string& name, std::chrono::milliseconds timeout);
  /// TLS handshake on the connected socket. Bad CA or certificate files are
  /// Invalid; a handshake failure (e.g. "certificate verify failed
  /// (self-signed certificate)") is an IOError.
  Status StartTls(const TlsOptions& options, Clock::time_point deadline);

  Status WriteAll(std::string_view bytes, Clock::time_point deadline);
  /// Reads at least one byte (at most `size`) into `buf`; *got = how many.
  /// The peer closing the connection is an IOError.
  Status ReadSome(char* buf, size_t size, size_t* got, Clock::time_point deadline);

  bool open() const { return fd_ >= 0; }
  void Close();

 private:
  /// Waits until the socket is readable (POLLIN) or writable (POLLOUT).
  Status WaitFor(short events, Clock::time_point deadline, const char* doing);
  /// After an SSL_* call returned `rc` <= 0: waits when OpenSSL asks to and
  /// returns OK (call again), else the error (and the stream is closed).
  Status HandleTlsResult(int rc, int saved_errno, const char* doing, Clock::time_point deadline);
  Status Fail(Status status);

  int fd_ = -1;
  SSL_CTX* ssl_ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string name_;
  std::chrono::milliseconds timeout_{0};
};

}  // namespace verdi
