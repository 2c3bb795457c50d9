// A minimal HTTP server for Prometheus scrapes and health probes: GET
// /metrics, /healthz and /readyz on its own thread, one request per
// connection, so a scrape never blocks the worker.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/status.h"
#include "verdi/metrics/registry.h"

namespace verdi {

/// The probes: each returns "" when all is well, else why not (the 503's
/// body). An empty function always answers well.
struct HealthChecks {
  std::function<std::string()> alive;  // /healthz: the process and its loop run
  std::function<std::string()> ready;  // /readyz: it can take work now
};

class MetricsServer {
 public:
  /// Listens on `bind` (an IPv4 address, e.g. 0.0.0.0 or 127.0.0.1) and
  /// `port` (0: any free port), and starts the thread. Invalid for a bad
  /// address, IOError when the port cannot be bound. `registry` must outlive
  /// the server.
  static Status Start(const std::string& bind, uint16_t port, const MetricsRegistry* registry,
                      HealthChecks health, std::unique_ptr<MetricsServer>* out);

  /// Stops the thread (a request in progress is dropped) and closes the socket.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  /// The port it listens on.
  uint16_t port() const { return port_; }

  /// Largest request head read (request line and headers); larger: 431.
  static constexpr size_t kMaxRequestBytes = 8192;

 private:
  MetricsServer(int listen_fd, int stop_fd, uint16_t port, const MetricsRegistry* registry,
                HealthChecks health);
  void Loop();
  void Serve(int fd);

  int listen_fd_, stop_fd_;
  uint16_t port_;
  const MetricsRegistry* registry_;
  HealthChecks health_;
  std::thread thread_;
};

/// The response to one HTTP request head (for tests): 200 with the metrics
/// for GET (or HEAD) /metrics; 200 "ok" or 503 with the reason for /healthz
/// and /readyz; 404 for another path, 405 for another method, 400 when
/// malformed.
std::string MetricsHttpResponse(const std::string& request, const MetricsRegistry& registry,
                                const HealthChecks& health = {});

}  // namespace verdi
