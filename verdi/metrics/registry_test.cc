#include "verdi/metrics/registry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "verdi/metrics/process_metrics.h"
#include "verdi/metrics/server.h"

namespace verdi {
namespace {

TEST(MetricsTest, CounterWithLabels) {
  MetricsRegistry r;
  Metric* c = r.AddCounter("verdi_jobs_total", "Jobs ended, by status");
  c->Touch({{"status", "job-failed"}});
  c->Inc({{"status", "job-completed"}});
  c->Add(2, {{"status", "job-completed"}});
  c->Add(-5, {{"status", "job-completed"}});  // counters never go down
  EXPECT_EQ(r.Render(),
            "# HELP verdi_jobs_total Jobs ended, by status\n"
            "# TYPE verdi_jobs_total counter\n"
            "verdi_jobs_total{status=\"job-completed\"} 3\n"
            "verdi_jobs_total{status=\"job-failed\"} 0\n");
}

TEST(MetricsTest, GaugeAndFamilyOrder) {
  MetricsRegistry r;
  Metric* a = r.AddGauge("b_slots", "Slots");
  Metric* b = r.AddGauge("a_depth", "Depth");
  a->Set(4);
  b->Set(0.25);
  b->Add(1);
  EXPECT_EQ(r.Render(),
            "# HELP b_slots Slots\n# TYPE b_slots gauge\nb_slots 4\n"
            "# HELP a_depth Depth\n# TYPE a_depth gauge\na_depth 1.25\n");
}

TEST(MetricsTest, EmptyFamilyHasOnlyItsHeader) {
  MetricsRegistry r;
  r.AddGauge("x", "X");
  EXPECT_EQ(r.Render(), "# HELP x X\n# TYPE x gauge\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  MetricsRegistry r;
  Metric* h = r.AddHistogram("d_seconds", "Durations", {1, 0.5, 10});
  h->Observe(0.5);  // le is inclusive
  h->Observe(3);
  h->Observe(100);
  EXPECT_EQ(r.Render(),
            "# HELP d_seconds Durations\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{le=\"0.5\"} 1\n"
            "d_seconds_bucket{le=\"1\"} 1\n"
            "d_seconds_bucket{le=\"10\"} 2\n"
            "d_seconds_bucket{le=\"+Inf\"} 3\n"
            "d_seconds_sum 103.5\n"
            "d_seconds_count 3\n");
}

TEST(MetricsTest, HistogramWithLabels) {
  MetricsRegistry r;
  Metric* h = r.AddHistogram("p_seconds", "Phases", {1});
  h->Touch({{"phase", "setup"}});
  h->Observe(2, {{"phase", "command"}});
  EXPECT_EQ(r.Render(),
            "# HELP p_seconds Phases\n"
            "# TYPE p_seconds histogram\n"
            "p_seconds_bucket{phase=\"command\",le=\"1\"} 0\n"
            "p_seconds_bucket{phase=\"command\",le=\"+Inf\"} 1\n"
            "p_seconds_sum{phase=\"command\"} 2\n"
            "p_seconds_count{phase=\"command\"} 1\n"
            "p_seconds_bucket{phase=\"setup\",le=\"1\"} 0\n"
            "p_seconds_bucket{phase=\"setup\",le=\"+Inf\"} 0\n"
            "p_seconds_sum{phase=\"setup\"} 0\n"
            "p_seconds_count{phase=\"setup\"} 0\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry r;
  Metric* c = r.AddCounter("e_total", "Back\\slash \"quoted\"\nsecond line");
  c->Inc({{"v", "a\\b\"c\nd"}});
  EXPECT_EQ(r.Render(),
            "# HELP e_total Back\\\\slash \"quoted\"\\nsecond line\n"
            "# TYPE e_total counter\n"
            "e_total{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsTest, FormatsValues) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(0.005), "0.005");
  EXPECT_EQ(FormatMetricValue(86400), "86400");
  EXPECT_EQ(FormatMetricValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatMetricValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatMetricValue(0.0 / 0.0), "NaN");
}

TEST(MetricsTest, ConcurrentUpdates) {
  MetricsRegistry r;
  Metric* c = r.AddCounter("c_total", "C");
  Metric* h = r.AddHistogram("h", "H", {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        c->Inc();
        h->Observe(0.5);
        if (i % 100 == 0) r.Render();
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(r.Render(),
            "# HELP c_total C\n# TYPE c_total counter\nc_total 4000\n"
            "# HELP h H\n# TYPE h histogram\nh_bucket{le=\"1\"} 4000\n"
            "h_bucket{le=\"+Inf\"} 4000\nh_sum 2000\nh_count 4000\n");
}

TEST(MetricsHttpTest, Responses) {
  MetricsRegistry r;
  r.AddGauge("g", "G")->Set(1);
  std::string body = "# HELP g G\n# TYPE g gauge\ng 1\n";
  EXPECT_EQ(MetricsHttpResponse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", r),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  EXPECT_EQ(MetricsHttpResponse("GET /metrics?x=1 HTTP/1.0\r\n\r\n", r).substr(0, 15),
            "HTTP/1.1 200 OK");
  EXPECT_EQ(MetricsHttpResponse("GET /other HTTP/1.1\r\n\r\n", r).substr(0, 22),
            "HTTP/1.1 404 Not Found");
  EXPECT_EQ(MetricsHttpResponse("POST /metrics HTTP/1.1\r\n\r\n", r).substr(0, 12), "HTTP/1.1 405");
  EXPECT_EQ(MetricsHttpResponse("garbage\r\n\r\n", r).substr(0, 12), "HTTP/1.1 400");
}

TEST(MetricsHttpTest, HealthProbesAnswerWhatTheChecksSay) {
  MetricsRegistry r;
  std::string not_ready = "not connected to the broker";
  HealthChecks health{[] { return std::string(); }, [&] { return not_ready; }};
  std::string alive = MetricsHttpResponse("GET /healthz HTTP/1.1\r\n\r\n", r, health);
  EXPECT_EQ(alive.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(alive.substr(alive.size() - 3), "ok\n");
  std::string ready = MetricsHttpResponse("GET /readyz HTTP/1.1\r\n\r\n", r, health);
  EXPECT_EQ(ready.substr(0, 12), "HTTP/1.1 503");
  EXPECT_NE(ready.find("\r\n\r\nnot connected to the broker\n"), std::string::npos) << ready;
  not_ready.clear();
  EXPECT_EQ(MetricsHttpResponse("GET /readyz HTTP/1.1\r\n\r\n", r, health).substr(0, 15),
            "HTTP/1.1 200 OK");
  EXPECT_EQ(MetricsHttpResponse("POST /readyz HTTP/1.1\r\n\r\n", r, health).substr(0, 12),
            "HTTP/1.1 405");
}

TEST(ProcessMetricsTest, ReadFromProcAtEachRender) {
  MetricsRegistry r;
  AddProcessMetrics(&r, "verdi", "1.2.3");
  std::string text = r.Render();
  for (const char* family :
       {"# TYPE process_cpu_seconds_total counter", "# TYPE process_resident_memory_bytes gauge",
        "# TYPE process_open_fds gauge", "# TYPE process_start_time_seconds gauge",
        "# TYPE process_max_fds gauge", "verdi_build_info{version=\"1.2.3\"} 1\n"})
    EXPECT_NE(text.find(family), std::string::npos) << family << "\n" << text;
  // Resident memory is this test's, so well above a megabyte.
  size_t at = text.find("\nprocess_resident_memory_bytes ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GT(std::stod(text.substr(at + 31)), 1e6);
  // The start time is in the past, within a day.
  at = text.find("\nprocess_start_time_seconds ");
  ASSERT_NE(at, std::string::npos);
  double start = std::stod(text.substr(at + 28));
  double now = static_cast<double>(time(nullptr));
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 86400);
}

// One request over a real socket; returns everything the server sent.
std::string Fetch(uint16_t port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

TEST(MetricsServerTest, ServesOverTcp) {
  MetricsRegistry r;
  r.AddCounter("x_total", "X")->Inc();
  std::unique_ptr<MetricsServer> server;
  ASSERT_TRUE(MetricsServer::Start("127.0.0.1", 0, &r, {}, &server).ok());
  ASSERT_NE(server->port(), 0);
  std::string ok = Fetch(server->port(), "GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_NE(ok.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << ok;
  EXPECT_NE(ok.find("\r\n\r\n# HELP x_total X\n# TYPE x_total counter\nx_total 1\n"),
            std::string::npos)
      << ok;
  EXPECT_EQ(Fetch(server->port(), "GET / HTTP/1.1\r\n\r\n").substr(0, 12), "HTTP/1.1 404");
  // Past the limit, but all of it read by the server (no reset on close).
  std::string big = "GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'a');
  EXPECT_EQ(Fetch(server->port(), big).substr(0, 12), "HTTP/1.1 431");
  server.reset();  // stops promptly
}

TEST(MetricsServerTest, BadBindAddress) {
  MetricsRegistry r;
  std::unique_ptr<MetricsServer> server;
  EXPECT_TRUE(MetricsServer::Start("localhost", 0, &r, {}, &server).IsInvalid());
}

}  // namespace
}  // namespace verdi
