// Prometheus metrics: a small thread-safe registry of counters, gauges and
// histograms (fixed buckets), rendered in the text exposition format 0.0.4.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace verdi {

/// Label name/value pairs of one series, in the order they are written.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry;

/// One metric family. Every call is thread-safe (the registry's lock).
class Metric {
 public:
  enum class Kind { kCounter, kGauge, kHistogram };

  /// Counter: adds `v` (>= 0; a negative `v` is ignored). Gauge: adds `v`.
  void Add(double v, const MetricLabels& labels = {});
  void Inc(const MetricLabels& labels = {}) { Add(1, labels); }
  /// Gauge only.
  void Set(double v, const MetricLabels& labels = {});
  /// Histogram only.
  void Observe(double v, const MetricLabels& labels = {});
  /// Makes the series exist (at 0) so that it is exported before any event.
  void Touch(const MetricLabels& labels = {});

 private:
  friend class MetricsRegistry;
  struct Series {
    double value = 0;               // counter, gauge
    std::vector<uint64_t> buckets;  // histogram: observations <= bounds_[i]
    double sum = 0;
    uint64_t count = 0;
  };
  Metric(MetricsRegistry* registry, Kind kind, std::string name, std::string help,
         std::vector<double> bounds);
  Series& At(const MetricLabels& labels);  // with the lock held
  void Render(std::string* out) const;     // with the lock held

  MetricsRegistry* registry_;
  Kind kind_;
  std::string name_, help_;
  std::vector<double> bounds_;  // histogram upper bounds, ascending, without +Inf
  std::map<MetricLabels, Series> series_;
};

/// Metric families, rendered in the order they were added.
class MetricsRegistry {
 public:
  /// `name` follows Prometheus's conventions (snake_case, a unit suffix,
  /// counters ending in _total). A family has no samples until a series is
  /// touched or updated.
  Metric* AddCounter(const std::string& name, const std::string& help);
  Metric* AddGauge(const std::string& name, const std::string& help);
  /// `buckets`: upper bounds; sorted here, +Inf added when rendering.
  Metric* AddHistogram(const std::string& name, const std::string& help,
                       std::vector<double> buckets);

  /// Calls `collect` before each Render, to refresh gauges read from
  /// elsewhere (the process's CPU and memory); it may update any metric.
  void AddCollector(std::function<void()> collect);

  /// The text exposition format 0.0.4: # HELP, # TYPE, then the samples.
  std::string Render() const;

 private:
  friend class Metric;
  Metric* Add(Metric::Kind kind, const std::string& name, const std::string& help,
              std::vector<double> buckets);

  mutable std::mutex mu_;
  std::deque<Metric> metrics_;                     // stable addresses
  std::vector<std::function<void()>> collectors_;  // added before serving
};

/// A sample value as Prometheus writes it: the shortest decimal that reads
/// back the same, +Inf, -Inf, NaN.
std::string FormatMetricValue(double v);
/// A label value with \, " and newline escaped.
std::string EscapeLabelValue(const std::string& value);

}  // namespace verdi
