#include "verdi/worker/task_gates.h"

namespace verdi {

Gate CheckGate(const TaskMessage& task, const RevokedSet* revoked, WallClock::time_point now) {
  if (task.expires && *task.expires <= now) return Gate::kExpired;
  if (revoked != nullptr && revoked->Contains(task.id)) return Gate::kRevoked;
  return Gate::kRun;
}

void AnnounceRevoked(const TaskMessage& task, Gate why, int signum, TaskResults* results,
                     EventPublisher* events) {
  bool expired = why == Gate::kExpired;
  const char* reason = expired ? "expired" : signum != 0 ? "terminated" : "revoked";
  results->Store(task, "REVOKED", ExceptionResult("TaskRevokedError", "celery.exceptions", reason),
                 nullptr);
  events->Send("task-revoked", {{"uuid", task.id},
                                {"terminated", signum != 0},
                                {"signum", signum != 0 ? Json(signum) : Json(nullptr)},
                                {"expired", expired}});
}

}  // namespace verdi
