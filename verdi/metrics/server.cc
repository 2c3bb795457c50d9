#include "verdi/metrics/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "base/log.h"

namespace verdi {
namespace {

using Clock = std::chrono::steady_clock;

// A client has this long to send its request and read the response.
constexpr auto kConnectionDeadline = std::chrono::seconds(5);

std::string Response(const char* status, const char* content_type, const std::string& body,
                     bool head = false) {
  return fmt::format(
      "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
      status, content_type, body.size(), head ? "" : body);
}

std::string Plain(const char* status, const std::string& body) {
  return Response(status, "text/plain; charset=utf-8", body);
}

// Waits for `events` on `fd` or the stop eventfd, until `deadline`. False on
// stop, timeout or error.
bool WaitFor(int fd, short events, int stop_fd, Clock::time_point deadline) {
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
    int n = poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[1].revents != 0) return false;
    if (fds[0].revents != 0) return true;
  }
}

}  // namespace

std::string MetricsHttpResponse(const std::string& request, const MetricsRegistry& registry,
                                const HealthChecks& health) {
  size_t eol = request.find('\n');
  std::string line = request.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  // METHOD SP target SP HTTP/x.y
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || line.compare(sp2 + 1, 5, "HTTP/") != 0)
    return Plain("400 Bad Request", "bad request\n");
  std::string method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string path = target.substr(0, target.find('?'));
  const std::function<std::string()>* probe = path == "/healthz"  ? &health.alive
                                              : path == "/readyz" ? &health.ready
                                                                  : nullptr;
  if (path != "/metrics" && probe == nullptr)
    return Plain("404 Not Found",
                 "not found; metrics are at /metrics, probes at /healthz and /readyz\n");
  if (method != "GET" && method != "HEAD")
    return Plain("405 Method Not Allowed", "only GET or HEAD\n");
  if (probe != nullptr) {
    std::string why = *probe ? (*probe)() : "";
    return Response(why.empty() ? "200 OK" : "503 Service Unavailable", "text/plain; charset=utf-8",
                    why.empty() ? "ok\n" : why + "\n", method == "HEAD");
  }
  return Response("200 OK", "text/plain; version=0.0.4", registry.Render(), method == "HEAD");
}

Status MetricsServer::Start(const std::string& bind, uint16_t port, const MetricsRegistry* registry,
                            HealthChecks health, std::unique_ptr<MetricsServer>* out) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, bind.c_str(), &addr.sin_addr) != 1)
    return Status::Invalid("--metrics-bind: expected an IPv4 address, got \"" + bind + "\"");
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError("metrics socket", errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 16) != 0) {
    int err = errno;
    close(fd);
    return Status::IOError(fmt::format("metrics: listen on {}:{}", bind, port), err);
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop < 0) {
    int err = errno;
    close(fd);
    return Status::IOError("metrics eventfd", err);
  }
  out->reset(new MetricsServer(fd, stop, ntohs(addr.sin_port), registry, std::move(health)));
  return Status::OK();
}

MetricsServer::MetricsServer(int listen_fd, int stop_fd, uint16_t port,
                             const MetricsRegistry* registry, HealthChecks health)
    : listen_fd_(listen_fd),
      stop_fd_(stop_fd),
      port_(port),
      registry_(registry),
      health_(std::move(health)) {
  thread_ = std::thread([this] { Loop(); });
}

MetricsServer::~MetricsServer() {
  uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof one) < 0) {
  }  // cannot fail with a counter this small
  thread_.join();
  close(listen_fd_);
  close(stop_fd_);
}

void MetricsServer::Loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) {
      LogError("metrics server: poll: {}", strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) continue;  // EAGAIN, ECONNABORTED, EMFILE, ...: the next one
    Serve(fd);
    close(fd);
  }
}

void MetricsServer::Serve(int fd) {
  auto deadline = Clock::now() + kConnectionDeadline;
  std::string request;
  std::string response;
  char buf[2048];
  for (;;) {
    if (request.find("\r\n\r\n") != std::string::npos ||
        request.find("\n\n") != std::string::npos) {
      response = MetricsHttpResponse(request, *registry_, health_);
      break;
    }
    if (request.size() > kMaxRequestBytes) {
      response = Plain("431 Request Header Fields Too Large", "request too large\n");
      break;
    }
    if (!WaitFor(fd, POLLIN, stop_fd_, deadline)) return;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return;  // closed before a whole request
    request.append(buf, static_cast<size_t>(n));
  }
  size_t sent = 0;
  while (sent < response.size()) {
    ssize_t n = send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd, POLLOUT, stop_fd_, deadline)) return;
    } else {
      return;
    }
  }
  shutdown(fd, SHUT_WR);
}

}  // namespace verdi
