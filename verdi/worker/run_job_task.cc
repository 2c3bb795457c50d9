#include "verdi/worker/run_job_task.h"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "base/log.h"
#include "jobspec/job_status.h"

namespace verdi {
namespace {

// HySDS's run_job return value (§1.5).
Json Summary(const Json& job, const JobOutcome& outcome, const std::string& nodename) {
  const Json* payload_id = FindPath(job, {"job_info", "job_payload", "payload_task_id"});
  const Json* payload_hash = FindPath(job, {"job_info", "payload_hash"});
  const Json* dedup = FindPath(job, {"job_info", "dedup"});
  const Json* job_url = FindPath(job, {"job_info", "job_url"});
  return {{"uuid", job.value("task_id", "")},
          {"job_id", job.value("job_id", "")},
          {"payload_id", payload_id ? *payload_id : Json(nullptr)},
          {"payload_hash", payload_hash ? *payload_hash : Json(nullptr)},
          {"dedup", dedup ? *dedup : Json(nullptr)},
          {"status", outcome.status},
          {"job_url", job_url ? *job_url : Json(nullptr)},
          {"celery_hostname", nodename}};
}

// The stricter of the job's own limit and the message's timelimit header.
void ApplyLimit(Json* job_info, const char* key, std::optional<double> header) {
  if (!header || *header <= 0) return;
  int64_t seconds = std::max<int64_t>(1, static_cast<int64_t>(*header));
  Json& current = (*job_info)[key];
  if (current.is_number() && current.get<double>() > 0 && current.get<double>() <= seconds) return;
  current = seconds;
}

class TaskRun {
 public:
  TaskRun(const TaskMessage& task, const TaskDelivery& delivery, const TaskEnv& env,
          const AckTarget* ack)
      : task_(task), delivery_(delivery), env_(env), ack_(ack) {}

  void Run(Interrupts* stop) {
    if (!env_.acks_late) Finish(BrokerAction::Ack(delivery_.tag));
    if (AlreadyFinished()) return Done();
    if (IsRevoked()) {
      LogWarning("task {}: revoked: not run", task_.id);
      Revoke(false, 0);
      return Done();
    }
    if (env_.keys != nullptr && env_.keys->IsRevoked(task_.id)) return RevokedInRedis();
    auto started = std::chrono::steady_clock::now();
    env_.events->Send("task-started", {{"uuid", task_.id}});
    if (env_.track_started)
      StoreResult("STARTED", {{"pid", getpid()}, {"hostname", env_.nodename}});
    if (env_.keys != nullptr) env_.keys->SetTaskWorker(task_.id, env_.nodename);

    PreparedJob prepared;
    Status st = PrepareJob(JobPayload(), *env_.pipeline, &prepared);
    if (!st.ok()) {
      LogWarning("task {}: {}", task_.id, st.message());
      Fail(st.message());
      Ended(kJobFailed);
      return Done();
    }
    LogInfo("task {}: job {} started", task_.id, prepared.job.job_id);
    JobOutcome outcome = RunPreparedJob(&prepared, *env_.pipeline, stop);
    LogInfo("task {}: job {} {}{}", task_.id, prepared.job.job_id, outcome.status,
            outcome.error.empty() ? "" : ": " + outcome.error);

    if (outcome.signum != 0 && IsRevoked()) {
      LogWarning("task {}: terminated by a revoke (signal {})", task_.id, outcome.signum);
      Revoke(true, outcome.signum);
      return Done();
    }
    if (outcome.signum != 0 && env_.shutting_down != nullptr && *env_.shutting_down) {
      // Stopped by our own shutdown: another worker runs it again.
      LogWarning("task {}: stopped by the worker's shutdown; requeued", task_.id);
      env_.events->Send("task-rejected", {{"uuid", task_.id}, {"requeue", true}});
      return Finish(BrokerAction::Reject(delivery_.tag, true));
    }
    if (outcome.completed()) {
      Json summary = Summary(prepared.job.doc, outcome, env_.nodename);
      StoreResult("SUCCESS", summary);
      double runtime =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      env_.events->Send(
          "task-succeeded",
          {{"uuid", task_.id}, {"result", PythonRepr(summary)}, {"runtime", runtime}});
    } else {
      Fail(outcome.error);
    }
    Ended(outcome.status);
    Done();
  }

 private:
  // §6.5: a redelivered task whose earlier run already ended is not run twice.
  bool AlreadyFinished() {
    if (!delivery_.redelivered) return false;
    std::string state = env_.results->StoredState(task_.id);
    if (!IsReadyState(state)) return false;
    std::string reason = fmt::format(
        "redelivered, but its earlier run already ended in {}; not running it again", state);
    LogWarning("task {}: job-deduped: {}", task_.id, reason);
    if (env_.reporter != nullptr) {
      StatusDetails details;
      details.dedup_msg = reason;
      env_.reporter->Report(JobPayload(), "job-deduped", details);
    }
    Ended("job-deduped");
    return true;
  }

  // The job as run_job receives it, with what the worker adds (§1.2).
  Json JobPayload() {
    Json job = task_.args.at(0);
    job["task_id"] = task_.id;
    job["delivery_info"] = {{"exchange", delivery_.exchange},
                            {"routing_key", delivery_.routing_key},
                            {"priority", delivery_.priority},
                            {"redelivered", delivery_.redelivered}};
    if (task_.hard_time_limit || task_.soft_time_limit) {
      if (!job.contains("job_info") || !job["job_info"].is_object())
        job["job_info"] = Json::object();
      ApplyLimit(&job["job_info"], "time_limit", task_.hard_time_limit);
      ApplyLimit(&job["job_info"], "soft_time_limit", task_.soft_time_limit);
    }
    return job;
  }

  bool IsRevoked() const { return env_.revoked != nullptr && env_.revoked->Contains(task_.id); }

  // Celery's Request._announce_revoked: REVOKED stored, task-revoked sent.
  void Revoke(bool terminated, int signum) {
    env_.results->Store(task_, "REVOKED",
                        ExceptionResult("TaskRevokedError", "celery.exceptions",
                                        terminated ? "terminated" : "revoked"));
    env_.events->Send("task-revoked", {{"uuid", task_.id},
                                       {"terminated", terminated},
                                       {"signum", terminated ? Json(signum) : Json(nullptr)},
                                       {"expired", false}});
  }

  // §4 step 1, §6.3: revoked through mozart (the key) while still queued.
  void RevokedInRedis() {
    LogWarning("task {}: hysds-revoked-task-{} is set: revoked, not run", task_.id, task_.id);
    Revoke(false, 0);
    if (env_.reporter != nullptr) {
      StatusDetails details;
      details.signum = 0;
      details.error = "Job was revoked with signal 0";
      env_.reporter->Report(JobPayload(), "job-revoked", details);
    }
    Done();
  }

  void Ended(const std::string& status) {
    if (env_.job_ended) env_.job_ended(status);
  }

  void Fail(const std::string& error) {
    StoreResult("FAILURE", ExceptionResult("WorkerExecutionError", "hysds.job_worker", error));
    env_.events->Send("task-failed",
                      {{"uuid", task_.id},
                       {"exception", "WorkerExecutionError(" + PythonRepr(error) + ")"},
                       {"traceback", ""}});
  }

  // The producer's ignore_result header is honoured: nothing is stored.
  void StoreResult(const std::string& state, const Json& result) {
    if (!task_.ignore_result.value_or(false)) env_.results->Store(task_, state, result);
  }

  void Done() {
    if (env_.acks_late) Finish(BrokerAction::Ack(delivery_.tag));
  }

  // Acks (or rejects) the delivery the task has now: its own, or the
  // redelivered copy it adopted after a reconnect.
  void Finish(BrokerAction action) {
    TaskDelivery target = ack_ != nullptr ? ack_->Get() : delivery_;
    action.delivery_tag = target.tag;
    action.connection = target.connection;
    env_.outbox->Push(std::move(action));
  }

  const TaskMessage& task_;
  const TaskDelivery& delivery_;
  const TaskEnv& env_;
  const AckTarget* ack_;
};

}  // namespace

Status CheckRunJobArguments(const TaskMessage& task) {
  if (!task.args.is_array() || task.args.empty())
    return Status::Invalid("args: expected [job], got " + DescribeJson(task.args));
  if (!task.args[0].is_object())
    return Status::Invalid("args[0] (the job): expected an object, got " +
                           DescribeJson(task.args[0]));
  if (task.args.size() > 2)
    return Status::Invalid(
        fmt::format("args: expected [job] or [job, queue_when_finished], got {} "
                    "arguments",
                    task.args.size()));
  for (const auto& [key, value] : task.kwargs.items())
    if (key != "queue_when_finished")
      return Status::Invalid("kwargs: run_job takes no argument \"" + key + "\"");
  return Status::OK();
}

void RunJobTask(const TaskMessage& task, const TaskDelivery& delivery, const TaskEnv& env,
                Interrupts* stop, const AckTarget* ack) {
  TaskRun(task, delivery, env, ack).Run(stop);
}

}  // namespace verdi
