// The one task verdi runs: hysds.job_worker.run_job(job, queue_when_finished).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "verdi/amqp/outbox.h"
#include "verdi/celery/event_publisher.h"
#include "verdi/celery/revoked_set.h"
#include "verdi/celery/task_message.h"
#include "verdi/celery/task_results.h"
#include "verdi/job/status_reporter.h"
#include "verdi/process/interrupts.h"
#include "verdi/worker/hysds_keys.h"
#include "verdi/worker/job_runner.h"
#include "verdi/worker/task_claims.h"
#include "verdi/worker/trigger_rules.h"

namespace verdi {

/// Where a task message came from.
struct TaskDelivery {
  uint64_t tag = 0;
  uint64_t connection = 0;  // which broker connection delivered it
  bool redelivered = false;
  std::string exchange, routing_key;
  uint8_t priority = 0;
};

/// The delivery a running task acks when it ends. After a broker reconnect
/// the broker redelivers the unacked task while it still runs here; the
/// worker then moves the ack to the new delivery (the old one belongs to a
/// lost connection) instead of running the task twice. Thread-safe.
class AckTarget {
 public:
  explicit AckTarget(TaskDelivery delivery) : delivery_(std::move(delivery)) {}
  TaskDelivery Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return delivery_;
  }
  void Set(TaskDelivery delivery) {
    std::lock_guard<std::mutex> lock(mu_);
    delivery_ = std::move(delivery);
  }

 private:
  mutable std::mutex mu_;
  TaskDelivery delivery_;
};

/// What the worker gives every task it runs.
struct TaskServices {
  /// Runs the job itself (the pipeline, or a fake in tests).
  JobRunner* runner = nullptr;
  std::string nodename;
  bool acks_late = true;
  bool track_started = true;
  TaskResults* results = nullptr;
  Outbox* outbox = nullptr;
  EventPublisher* events = nullptr;
  /// HySDS statuses outside the pipeline (job-deduped, job-revoked); may be
  /// null.
  StatusReporter* reporter = nullptr;
  /// True once the worker stops its running jobs for a shutdown: a job
  /// stopped then is requeued, not failed. May be empty (never).
  std::function<bool()> stopping_jobs;
  /// Revoked task ids (remote control); may be null. A revoked task is not
  /// run, and one stopped by a signal after its revoke ends as REVOKED.
  const RevokedSet* revoked = nullptr;
  /// The status Redis's hysds-revoked-task-<id> (checked before a job runs:
  /// REVOKED and job-revoked, not run) and hysds-task-worker-<id> (set when
  /// it starts); may be null.
  HysdsKeys* keys = nullptr;
  /// Claims on the status Redis, so that a task another live run holds is
  /// not started twice; may be null (no status Redis).
  TaskClaims* claims = nullptr;
  /// HySDS's trigger rules of a job that ran (dataset:<ipath> jobs, the user
  /// rules task), listed as the task's children; may be null (none sent).
  TriggerRules* triggers = nullptr;
  /// Called with the final HySDS status of every job that ran or was
  /// refused: job-completed, job-failed, ... `ran` is false for a payload
  /// refused before any work dir existed. May be empty.
  std::function<void(const std::string& status, bool ran)> job_ended;
};

/// Checks what the task's arguments must be before it is accepted: args[0]
/// is the job (an object), kwargs may only hold queue_when_finished.
Status CheckRunJobArguments(const TaskMessage& task);

/// Runs one run_job request to the end in the calling job slot: STARTED
/// stored, the job run by services.runner (stoppable through `stop`),
/// SUCCESS with HySDS's summary or FAILURE with the job's error stored, and
/// the ack (or, for a job stopped by a shutdown, a requeue) handed to the
/// connection thread. A redelivered task whose result is already final is
/// not run again.
void RunJobTask(const TaskMessage& task, const TaskDelivery& delivery, const TaskServices& services,
                Interrupts* stop, const AckTarget* ack);

}  // namespace verdi
