// The metrics of `verdi worker --metrics-port` (served by MetricsServer).
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

#include "events/status_sink.h"
#include "verdi/celery/task_message.h"
#include "verdi/job/pipeline.h"
#include "verdi/metrics/registry.h"
#include "verdi/metrics/server.h"

namespace verdi {

/// The worker's metrics, and a JobObserver that records each job's durations
/// before passing the call on to `next` (the StatusReporter, or null).
///
/// Queue lag (verdi_queue_lag_seconds) is the receive time minus the job's
/// job_info.time_queued when the payload has one (HySDS's orchestrator and
/// `verdi submit` set it), else minus the task's eta when it has one and it
/// has passed; else it is not observed: a Celery message carries no publish
/// time (kombu adds no header, the AMQP timestamp is not set).
class WorkerMetrics : public JobObserver {
 public:
  WorkerMetrics(int slots, JobObserver* next);

  const MetricsRegistry& registry() const { return registry_; }

  void Started(const Json& job) override;
  /// verdi_jobs_total, verdi_job_duration_seconds, the bytes published and
  /// localized and, when job_info has the times,
  /// verdi_job_phase_duration_seconds.
  void Finished(const Json& job, const JobOutcome& outcome) override;

  /// verdi_jobs_total for a task that ended without a job run (a payload
  /// refused, a duplicate): a job that ran is counted when it finishes, with
  /// its duration.
  void JobEnded(const std::string& status);
  /// A task message was received now (connection thread).
  void Received(const TaskMessage& task, WallClock::time_point now);
  /// Gauges the worker refreshes: busy slots and the status buffer depth
  /// (`sink` may be null: no gauge).
  void Update(size_t active_slots, const StatusSink* sink);
  /// The pool's size, after remote control changed it.
  void SetSlots(int slots);

  /// The connection thread's loop went round now; `not_ready` is "" when the
  /// worker is connected and consuming, else why not.
  void Beat(std::string not_ready);
  /// /healthz: the loop went round within the last minute. /readyz: the
  /// last Beat said ready.
  HealthChecks Health();

 private:
  MetricsRegistry registry_;
  JobObserver* next_;
  Metric* jobs_;
  Metric* job_duration_;
  Metric* phase_duration_;
  Metric* localized_;
  Metric* published_;
  Metric* active_slots_;
  Metric* slots_;
  Metric* queue_lag_;
  Metric* buffer_depth_;

  std::mutex mu_;
  std::chrono::steady_clock::time_point last_beat_;
  std::string not_ready_ = "starting";
};

}  // namespace verdi
