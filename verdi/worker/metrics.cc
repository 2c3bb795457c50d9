#include "verdi/worker/metrics.h"

#include <algorithm>
#include <optional>

#include "base/timestamp.h"
#include "jobspec/job_status.h"

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

}  // namespace

WorkerMetrics::WorkerMetrics(int slots, JobObserver* next) : next_(next) {
  jobs_ = registry_.AddCounter(
      "verdi_jobs_total", "Jobs ended, by final HySDS status (job-completed, job-failed, ...)");
  job_duration_ = registry_.AddHistogram(
      "verdi_job_duration_seconds",
      "Whole job durations (job_info.duration: work dir to close-out)", kJobBuckets);
  phase_duration_ = registry_.AddHistogram(
      "verdi_job_phase_duration_seconds",
      "Job phase durations from job_info: setup (time_start to cmd_start), command "
      "(cmd_start to cmd_end), closeout (cmd_end to time_end)",
      kShortBuckets);
  localized_ = registry_.AddCounter(
      "verdi_bytes_localized_total",
      "Bytes of job inputs localized (metrics.inputs_localized disk_usage; cache hits included)");
  published_ = registry_.AddCounter(
      "verdi_bytes_published_total",
      "Bytes of datasets published; always 0: verdi does not publish datasets yet");
  active_slots_ = registry_.AddGauge("verdi_active_slots", "Job slots running a job now");
  slots_ = registry_.AddGauge("verdi_slots", "Job slots (--concurrency)");
  queue_lag_ = registry_.AddHistogram(
      "verdi_queue_lag_seconds",
      "Receive time minus job_info.time_queued, else minus the task's past eta; not observed "
      "when the task has neither",
      kShortBuckets);
  buffer_depth_ = registry_.AddGauge(
      "verdi_status_buffer_depth", "HySDS status documents buffered for Redis, in flight included");
  jobs_->Touch({{"status", kJobCompleted}});
  jobs_->Touch({{"status", kJobFailed}});
  job_duration_->Touch();
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
  const Json* duration = FindPath(job, {"job_info", "duration"});
  if (duration != nullptr && duration->is_number()) job_duration_->Observe(duration->get<double>());
  auto start = InfoTime(job, "time_start"), cmd_start = InfoTime(job, "cmd_start"),
       cmd_end = InfoTime(job, "cmd_end"), end = InfoTime(job, "time_end");
  if (start && cmd_start && cmd_end && end) {
    phase_duration_->Observe(SecondsBetween(*start, *cmd_start), {{"phase", "setup"}});
    phase_duration_->Observe(SecondsBetween(*cmd_start, *cmd_end), {{"phase", "command"}});
    phase_duration_->Observe(SecondsBetween(*cmd_end, *end), {{"phase", "closeout"}});
  }
  if (const Json* inputs = FindPath(job, {"job_info", "metrics", "inputs_localized"});
      inputs != nullptr && inputs->is_array()) {
    for (const Json& input : *inputs)
      if (const Json* bytes = FindPath(input, {"disk_usage"}); bytes && bytes->is_number())
        localized_->Add(bytes->get<double>());
  }
  if (next_ != nullptr) next_->Finished(job, outcome);
}

void WorkerMetrics::JobEnded(const std::string& status) { jobs_->Inc({{"status", status}}); }

void WorkerMetrics::Received(const TaskMessage& task, WallClock::time_point now) {
  std::optional<WallClock::time_point> since;
  if (task.args.is_array() && !task.args.empty() && task.args[0].is_object())
    since = InfoTime(task.args[0], "time_queued");
  if (!since && task.eta && *task.eta <= now) since = *task.eta;
  if (since) queue_lag_->Observe(std::max(0.0, SecondsBetween(*since, now)));
}

void WorkerMetrics::Update(size_t active_slots, const StatusSink* sink) {
  active_slots_->Set(static_cast<double>(active_slots));
  if (sink != nullptr) buffer_depth_->Set(static_cast<double>(sink->stats().pending));
}

}  // namespace verdi
