#include "verdi/metrics/registry.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace verdi {
namespace {

const char* TypeName(Metric::Kind kind) {
  switch (kind) {
    case Metric::Kind::kCounter:
      return "counter";
    case Metric::Kind::kGauge:
      return "gauge";
    case Metric::Kind::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// # HELP text: \ and newline escaped (quotes are not).
std::string EscapeHelp(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

// {a="x",le="0.5"}, or "" without labels.
std::string LabelText(const MetricLabels& labels, const char* extra_name = nullptr,
                      const std::string& extra_value = "") {
  std::string out;
  auto add = [&](const std::string& name, const std::string& value) {
    out += out.empty() ? "{" : ",";
    out += name + "=\"" + EscapeLabelValue(value) + "\"";
  };
  for (const auto& [name, value] : labels) add(name, value);
  if (extra_name != nullptr) add(extra_name, extra_value);
  return out.empty() ? out : out + "}";
}

}  // namespace

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

Metric::Metric(MetricsRegistry* registry, Kind kind, std::string name, std::string help,
               std::vector<double> bounds)
    : registry_(registry),
      kind_(kind),
      name_(std::move(name)),
      help_(std::move(help)),
      bounds_(std::move(bounds)) {}

Metric::Series& Metric::At(const MetricLabels& labels) {
  auto [it, added] = series_.try_emplace(labels);
  if (added && kind_ == Kind::kHistogram) it->second.buckets.assign(bounds_.size(), 0);
  return it->second;
}

void Metric::Add(double v, const MetricLabels& labels) {
  if (kind_ == Kind::kHistogram || (kind_ == Kind::kCounter && !(v >= 0))) return;
  std::lock_guard<std::mutex> lock(registry_->mu_);
  At(labels).value += v;
}

void Metric::Set(double v, const MetricLabels& labels) {
  if (kind_ != Kind::kGauge) return;
  std::lock_guard<std::mutex> lock(registry_->mu_);
  At(labels).value = v;
}

void Metric::Observe(double v, const MetricLabels& labels) {
  if (kind_ != Kind::kHistogram || std::isnan(v)) return;
  std::lock_guard<std::mutex> lock(registry_->mu_);
  Series& s = At(labels);
  for (size_t i = 0; i < bounds_.size(); ++i)
    if (v <= bounds_[i]) ++s.buckets[i];
  s.sum += v;
  ++s.count;
}

void Metric::Touch(const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(registry_->mu_);
  At(labels);
}

void Metric::Render(std::string* out) const {
  *out +=
      fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, EscapeHelp(help_), name_, TypeName(kind_));
  for (const auto& [labels, s] : series_) {
    if (kind_ != Kind::kHistogram) {
      *out += fmt::format("{}{} {}\n", name_, LabelText(labels), FormatMetricValue(s.value));
      continue;
    }
    for (size_t i = 0; i < bounds_.size(); ++i)
      *out += fmt::format("{}_bucket{} {}\n", name_,
                          LabelText(labels, "le", FormatMetricValue(bounds_[i])), s.buckets[i]);
    *out += fmt::format("{}_bucket{} {}\n", name_, LabelText(labels, "le", "+Inf"), s.count);
    *out += fmt::format("{}_sum{} {}\n", name_, LabelText(labels), FormatMetricValue(s.sum));
    *out += fmt::format("{}_count{} {}\n", name_, LabelText(labels), s.count);
  }
}

Metric* MetricsRegistry::Add(Metric::Kind kind, const std::string& name, const std::string& help,
                             std::vector<double> buckets) {
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  while (!buckets.empty() && std::isinf(buckets.back())) buckets.pop_back();
  std::lock_guard<std::mutex> lock(mu_);
  metrics_.push_back(Metric(this, kind, name, help, std::move(buckets)));
  return &metrics_.back();
}

Metric* MetricsRegistry::AddCounter(const std::string& name, const std::string& help) {
  return Add(Metric::Kind::kCounter, name, help, {});
}

Metric* MetricsRegistry::AddGauge(const std::string& name, const std::string& help) {
  return Add(Metric::Kind::kGauge, name, help, {});
}

Metric* MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                      std::vector<double> buckets) {
  return Add(Metric::Kind::kHistogram, name, help, std::move(buckets));
}

void MetricsRegistry::AddCollector(std::function<void()> collect) {
  collectors_.push_back(std::move(collect));
}

std::string MetricsRegistry::Render() const {
  for (const auto& collect : collectors_) collect();
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& metric : metrics_) metric.Render(&out);
  return out;
}

}  // namespace verdi
