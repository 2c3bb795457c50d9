#include "verdi/worker/task_gates.h"

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
                       EventPublisher* events) {
  Status stored = results->Store(task, "REVOKED", RevokedResult(why, signum), nullptr);
  events->Send("task-revoked", {{"uuid", task.id},
                                {"terminated", signum != 0},
                                {"signum", signum != 0 ? Json(signum) : Json(nullptr)},
                                {"expired", why == Gate::kExpired}});
  return stored;
}

}  // namespace verdi
