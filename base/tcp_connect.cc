#include "base/tcp_connect.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include <fmt/format.h>

namespace verdi {
namespace {

using Clock = std::chrono::steady_clock;

struct AddrInfoFree {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};
using AddrInfoList = std::unique_ptr<addrinfo, AddrInfoFree>;

/// Waits for the non-blocking connect of `fd` to finish; its outcome as an
/// errno (0: connected).
int FinishConnect(int fd, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return ETIMEDOUT;
    pollfd p{fd, POLLOUT, 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return ETIMEDOUT;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
  }
}

/// One address: a connected socket in *fd, or the errno of the failure.
int ConnectOne(const addrinfo& a, Clock::time_point deadline, int* fd) {
  int s = socket(a.ai_family, a.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a.ai_protocol);
  if (s < 0) return errno;
  int err = connect(s, a.ai_addr, a.ai_addrlen) == 0 ? 0 : errno;
  if (err == EINPROGRESS) err = FinishConnect(s, deadline);
  if (err != 0) {
    close(s);
    return err;
  }
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  *fd = s;
  return 0;
}

}  // namespace

std::string HostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

bool IsIpLiteral(const std::string& host) {
  unsigned char addr[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), addr) == 1 ||
         inet_pton(AF_INET6, host.c_str(), addr) == 1;
}

Status ConnectTcp(const std::string& host, int port, std::chrono::milliseconds timeout, int* fd) {
  const std::string where = "connect to " + HostPort(host, port);
  const Clock::time_point deadline = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc == EAI_SYSTEM) return Status::IOError(where, errno);
  if (rc != 0) {
    return Status::Failed(fmt::format("{}: cannot resolve {}: {}", where, host, gai_strerror(rc)));
  }
  AddrInfoList addrs(found);
  int err = ECONNREFUSED;
  for (const addrinfo* a = addrs.get(); a != nullptr; a = a->ai_next) {
    err = ConnectOne(*a, deadline, fd);
    if (err == 0) return Status::OK();
    if (err == ETIMEDOUT) break;  // the time is shared by all addresses
  }
  if (err == ETIMEDOUT) {
    return Status::IOError(fmt::format("{}: took more than {} ms", where, timeout.count()), err);
  }
  return Status::IOError(where, err);
}

}  // namespace verdi
