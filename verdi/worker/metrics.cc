#include "verdi/worker/metrics.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "base/timestamp.h"
#include "jobspec/job_status.h"
#include "verdi/metrics/process_metrics.h"

namespace verdi {
namespace {

// Seconds, from a second to a day (jobs), and from 10 ms to a day (phases, lag).
const std::vector<double> kJobBuckets = {1,    5,    10,   30,    60,    300,  600,
                                         1800, 3600, 7200, 14400, 43200, 86400};
const std::vector<double> kShortBuckets = {0.01, 0.1, 0.5,  1,    5,     10,    30,   60,
                                           300,  600, 1800, 3600, 14400, 43200, 86400};

std::optional<WallClock::time_point> InfoTime(const Json& job, const char* key) {
  const Json* value = FindPath(job, {"job_info", key});
  WallClock::time_point t;
  if (value == nullptr || !value->is_string() || !ParseIsoTime(value->get<std::string>(), &t))
    return std::nullopt;
  return t;
}

// The labels a dashboard groups jobs by: the HySDS job type and the queue
// the job came from.
MetricLabels JobLabels(const Json& job) {
  auto text = [&](std::initializer_list<std::string_view> path) {
    const Json* v = FindPath(job, path);
    return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
  };
  std::string queue = text({"job_info", "job_queue"});
  if (queue.empty()) queue = text({"delivery_info", "routing_key"});
  return {{"type", text({"type"})}, {"queue", queue}};
}

double SumOf(const Json& job, std::initializer_list<std::string_view> list, const char* field) {
  const Json* items = FindPath(job, list);
  double total = 0;
  if (items == nullptr || !items->is_array()) return 0;
  for (const Json& item : *items)
    if (const Json* v = FindPath(item, {field}); v && v->is_number()) total += v->get<double>();
  return total;
}

}  // namespace

WorkerMetrics::WorkerMetrics(int slots, JobObserver* next)
    : next_(next), last_beat_(std::chrono::steady_clock::now()) {
  jobs_ = registry_.AddCounter("verdi_jobs_total",
                               "Jobs ended, by final HySDS status (job-completed, job-failed, "
                               "...), job type and queue");
  job_duration_ = registry_.AddHistogram(
      "verdi_job_duration_seconds",
      "Whole job durations (job_info.duration: work dir to close-out), by job type and queue",
      kJobBuckets);
  phase_duration_ = registry_.AddHistogram(
      "verdi_job_phase_duration_seconds",
      "Job phase durations from job_info: setup (time_start to cmd_start), command "
      "(cmd_start to cmd_end), closeout (cmd_end to time_end)",
      kShortBuckets);
  localized_ = registry_.AddCounter(
      "verdi_localized_bytes_total",
      "Bytes of job inputs localized (metrics.inputs_localized disk_usage; cache hits included)");
  published_ =
      registry_.AddCounter("verdi_published_bytes_total",
                           "Bytes of datasets published (metrics.products_staged disk_usage)");
  active_slots_ = registry_.AddGauge("verdi_active_slots", "Job slots running a job now");
  slots_ = registry_.AddGauge("verdi_slots",
                              "Job slots: --concurrency (as pool_grow and pool_shrink moved it) or "
                              "the --autoscale maximum");
  queue_lag_ = registry_.AddHistogram(
      "verdi_queue_lag_seconds",
      "Receive time minus job_info.time_queued, else minus the task's past eta; not observed "
      "when the task has neither",
      kShortBuckets);
  AddProcessMetrics(&registry_, "verdi", VERDI_VERSION);
  buffer_depth_ = registry_.AddGauge(
      "verdi_status_buffer_depth", "HySDS status documents buffered for Redis, in flight included");
  for (const char* phase : {"setup", "command", "closeout"})
    phase_duration_->Touch({{"phase", phase}});
  localized_->Touch();
  published_->Touch();
  active_slots_->Set(0);
  slots_->Set(slots);
  queue_lag_->Touch();
}

void WorkerMetrics::Started(const Json& job) {
  if (next_ != nullptr) next_->Started(job);
}

void WorkerMetrics::Finished(const Json& job, const JobOutcome& outcome) {
  MetricLabels labels = JobLabels(job);
  MetricLabels with_status = labels;
  with_status.insert(with_status.begin(), {"status", outcome.status});
  jobs_->Inc(with_status);
  const Json* duration = FindPath(job, {"job_info", "duration"});
  if (duration != nullptr && duration->is_number())
    job_duration_->Observe(duration->get<double>(), labels);
  auto start = InfoTime(job, "time_start"), cmd_start = InfoTime(job, "cmd_start"),
       cmd_end = InfoTime(job, "cmd_end"), end = InfoTime(job, "time_end");
  if (start && cmd_start && cmd_end && end) {
    phase_duration_->Observe(SecondsBetween(*start, *cmd_start), {{"phase", "setup"}});
    phase_duration_->Observe(SecondsBetween(*cmd_start, *cmd_end), {{"phase", "command"}});
    phase_duration_->Observe(SecondsBetween(*cmd_end, *end), {{"phase", "closeout"}});
  }
  localized_->Add(SumOf(job, {"job_info", "metrics", "inputs_localized"}, "disk_usage"));
  published_->Add(SumOf(job, {"job_info", "metrics", "products_staged"}, "disk_usage"));
  if (next_ != nullptr) next_->Finished(job, outcome);
}

void WorkerMetrics::JobEnded(const std::string& status) {
  jobs_->Inc({{"status", status}, {"type", ""}, {"queue", ""}});
}

void WorkerMetrics::Received(const TaskMessage& task, WallClock::time_point now) {
  std::optional<WallClock::time_point> since;
  if (task.args.is_array() && !task.args.empty() && task.args[0].is_object())
    since = InfoTime(task.args[0], "time_queued");
  if (!since && task.eta && *task.eta <= now) since = *task.eta;
  if (since) queue_lag_->Observe(std::max(0.0, SecondsBetween(*since, now)));
}

void WorkerMetrics::SetSlots(int slots) { slots_->Set(slots); }

void WorkerMetrics::Update(size_t active_slots, const StatusSink* sink) {
  active_slots_->Set(static_cast<double>(active_slots));
  if (sink != nullptr) buffer_depth_->Set(static_cast<double>(sink->stats().pending));
}

void WorkerMetrics::Beat(std::string not_ready) {
  std::lock_guard<std::mutex> lock(mu_);
  last_beat_ = std::chrono::steady_clock::now();
  not_ready_ = std::move(not_ready);
}

HealthChecks WorkerMetrics::Health() {
  HealthChecks checks;
  checks.alive = [this]() -> std::string {
    std::lock_guard<std::mutex> lock(mu_);
    auto since = std::chrono::steady_clock::now() - last_beat_;
    if (since < std::chrono::minutes(1)) return "";
    return fmt::format("the worker's loop has not run for {} s",
                       std::chrono::duration_cast<std::chrono::seconds>(since).count());
  };
  checks.ready = [this]() -> std::string {
    std::lock_guard<std::mutex> lock(mu_);
    return not_ready_;
  };
  return checks;
}

}  // namespace verdi
