// The one task verdi runs: hysds.job_worker.run_job(job, queue_when_finished).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "verdi/amqp/outbox.h"
#include "verdi/celery/event_publisher.h"
#include "verdi/celery/revoked_set.h"
#include "verdi/celery/task_message.h"
#include "verdi/celery/task_results.h"
#include "verdi/job/status_reporter.h"
#include "verdi/process/interrupts.h"
#include "verdi/worker/ack_target.h"
#include "verdi/worker/hysds_keys.h"
#include "verdi/worker/job_runner.h"
#include "verdi/worker/task_claims.h"
#include "verdi/worker/trigger_rules.h"
#include "verdi/worker/unstored_results.h"

namespace verdi {

/// What the worker gives every task it runs.
struct TaskServices {
  /// Runs the job itself (the pipeline, or a fake in tests).
  JobRunner* runner = nullptr;
  std::string nodename;
  bool acks_late = true;
  bool track_started = true;
  TaskResults* results = nullptr;
  /// Where a terminal result the backend would not take is kept, its
  /// message unacked until it is stored; may be null (the message is acked
  /// anyway).
  UnstoredResults* unstored = nullptr;
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

/// The job id of a run_job task (args[0].job_id); "" when it has none.
std::string JobIdOf(const TaskMessage& task);

/// Runs one run_job request to the end in the calling job slot: STARTED
/// stored, the job run by services.runner (stoppable through `stop`),
/// SUCCESS with HySDS's summary or FAILURE with the job's error stored, and
/// the ack (or, for a job stopped by a shutdown, a requeue) handed to the
/// connection thread through `ack` (null: `delivery`). A terminal result the
/// backend would not take goes to services.unstored instead of the ack. A
/// redelivered task whose result is already final is not run again.
void RunJobTask(const TaskMessage& task, const TaskDelivery& delivery, const TaskServices& services,
                Interrupts* stop, std::shared_ptr<AckTarget> ack);

}  // namespace verdi
