// The metrics of `verdi worker --metrics-port` (served by MetricsServer).
#pragma once

#include <cstddef>
#include <string>

#include "events/status_sink.h"
#include "verdi/celery/task_message.h"
#include "verdi/job/pipeline.h"
#include "verdi/metrics/registry.h"

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
  /// verdi_job_duration_seconds and, when job_info has the times,
  /// verdi_job_phase_duration_seconds.
  void Finished(const Json& job, const JobOutcome& outcome) override;

  /// verdi_jobs_total: a job ended with this HySDS status.
  void JobEnded(const std::string& status);
  /// A task message was received now (connection thread).
  void Received(const TaskMessage& task, WallClock::time_point now);
  /// Gauges the worker refreshes: busy slots and the status buffer depth
  /// (`sink` may be null: no gauge).
  void Update(size_t active_slots, const StatusSink* sink);

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
};

}  // namespace verdi
