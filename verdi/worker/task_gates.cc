#include "verdi/worker/task_gates.h"

#include "jobspec/job_status.h"

namespace verdi {

Gate CheckGate(const TaskMessage& task, const RevokedSet* revoked, WallClock::time_point now) {
  if (task.expires && *task.expires <= now) return Gate::kExpired;
  if (revoked != nullptr && revoked->Contains(task.id)) return Gate::kRevoked;
  return Gate::kRun;
}

Json RevokedResult(Gate why, int signum) {
  const char* reason = why == Gate::kExpired ? "expired" : signum != 0 ? "terminated" : "revoked";
  return ExceptionResult("TaskRevokedError", "celery.exceptions", reason);
}

Status AnnounceRevoked(const TaskMessage& task, Gate why, int signum, TaskResults* results,
                       EventPublisher* events, StatusReporter* reporter) {
  Status stored = results->Store(task, "REVOKED", RevokedResult(why, signum), nullptr);
  events->Send("task-revoked", {{"uuid", task.id},
                                {"terminated", signum != 0},
                                {"signum", signum != 0 ? Json(signum) : Json(nullptr)},
                                {"expired", why == Gate::kExpired}});
  if (reporter == nullptr || task.args.empty() || !task.args[0].is_object()) return stored;
  // HySDS's handler runs in Celery's main process, with the job of the
  // message (request.args[0]).
  Json job = task.args[0];
  if (!job.contains("task_id")) job["task_id"] = task.id;
  StatusDetails details;
  details.signum = signum;
  details.error = RevokedError(signum);
  reporter->Report(job, kJobRevoked, details);
  return stored;
}

}  // namespace verdi
