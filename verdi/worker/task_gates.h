// Whether a task may still run, decided in one place for every moment it
// could start (on arrival, when its ETA comes, in its job slot) as Celery's
// Request.revoked() decides it: expired first, then revoked by id. And how a
// task that must not run ends: REVOKED stored, task-revoked sent.
#pragma once

#include "base/timestamp.h"
#include "verdi/celery/event_publisher.h"
#include "verdi/celery/revoked_set.h"
#include "verdi/celery/task_message.h"
#include "verdi/celery/task_results.h"
#include "verdi/job/status_reporter.h"

namespace verdi {

enum class Gate { kRun, kExpired, kRevoked };

/// kExpired when the task's `expires` is at or before `now`; kRevoked when
/// its id is in `revoked` (may be null); else kRun.
Gate CheckGate(const TaskMessage& task, const RevokedSet* revoked, WallClock::time_point now);

/// The REVOKED result: a TaskRevokedError whose reason is "expired",
/// "revoked" or "terminated" (when `signum` is not 0: the revoke stopped a
/// running job).
Json RevokedResult(Gate why, int signum);

/// Celery's Request._announce_revoked: RevokedResult stored and a
/// task-revoked event with the same facts. With a `reporter` (may be null),
/// also the job-revoked status HySDS's task_revoked handler logs, expired
/// tasks included: signum, "Job was revoked with signal N.", the job as the
/// message carries it. Returns how the store went.
Status AnnounceRevoked(const TaskMessage& task, Gate why, int signum, TaskResults* results,
                       EventPublisher* events, StatusReporter* reporter);

}  // namespace verdi
