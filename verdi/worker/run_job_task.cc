#include "verdi/worker/run_job_task.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "base/log.h"
#include "jobspec/job_status.h"
#include "verdi/job/status_reporter.h"
#include "verdi/worker/task_gates.h"

namespace verdi {
namespace {

// HySDS's run_job return value.
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
  TaskRun(const TaskMessage& task, const TaskDelivery& delivery, const TaskServices& services,
          std::shared_ptr<AckTarget> ack)
      : task_(task),
        delivery_(delivery),
        services_(services),
        ack_(ack ? std::move(ack) : std::make_shared<AckTarget>(delivery)) {}

  void Run(Interrupts* stop) {
    if (!services_.acks_late) Finish(BrokerAction::Ack(delivery_.tag));
    if (AlreadyFinished()) return Done();
    if (Gate gate = CheckGate(task_, services_.revoked, WallClock::now()); gate != Gate::kRun) {
      LogWarning("task {}: {}: not run", task_.id, gate == Gate::kExpired ? "expired" : "revoked");
      Revoked(gate, 0, services_.reporter);
      return Done();
    }
    if (services_.keys != nullptr && services_.keys->IsRevoked(task_.id)) return RevokedInRedis();
    if (!TakeClaim(stop)) return;
    ClaimHeld claim{services_.claims, task_.id, &kept_};
    auto started = std::chrono::steady_clock::now();
    services_.events->Send("task-started", {{"uuid", task_.id}});
    if (services_.track_started)
      StoreResult("STARTED", {{"pid", getpid()}, {"hostname", services_.nodename}});
    if (services_.keys != nullptr) services_.keys->SetTaskWorker(task_.id, services_.nodename);

    JobRun run = services_.runner->Run(JobPayload(), stop);
    const JobOutcome& outcome = run.outcome;
    if (!run.prepared) {
      LogWarning("task {}: {}", task_.id, outcome.error);
      Fail(outcome);
      Ended(outcome.status, false);
      return Done();
    }
    LogInfo("task {}: job {} {}{}", task_.id, run.job.value("job_id", ""), outcome.status,
            outcome.error.empty() ? "" : ": " + outcome.error);

    if (outcome.signum != 0 && IsRevoked()) {
      LogWarning("task {}: terminated by a revoke (signal {})", task_.id, outcome.signum);
      // Its job-revoked status was the pipeline's final one.
      Revoked(Gate::kRevoked, outcome.signum, nullptr);
      return Done();
    }
    if (outcome.signum != 0 && services_.stopping_jobs && services_.stopping_jobs()) {
      // Stopped by our own shutdown: another worker runs it again.
      return Requeue("stopped by the worker's shutdown");
    }
    // HySDS's trigger rules, sent from inside the task: its result lists them.
    if (services_.triggers != nullptr)
      children_ = services_.triggers->Send(task_, run.job, outcome);
    if (outcome.completed()) {
      Json summary = Summary(run.job, outcome, services_.nodename);
      StoreResult("SUCCESS", summary);
      double runtime =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      services_.events->Send(
          "task-succeeded",
          {{"uuid", task_.id}, {"result", PythonRepr(summary)}, {"runtime", runtime}});
    } else {
      Fail(outcome);
    }
    Ended(outcome.status, true);
    Done();
  }

 private:
  // Ends this worker's claim on the task when the run is over.
  // (Unless its result waits to be stored: then UnstoredResults ends it.)
  struct ClaimHeld {
    TaskClaims* claims;
    std::string task_id;
    const bool* kept;
    ~ClaimHeld() {
      if (claims != nullptr && !*kept) claims->Release(task_id);
    }
  };

  // A task another live run holds (its worker lost the broker, which then
  // gave the task to this one) waits here, its message kept, until that run
  // ends: then it is acked without a second run when that run stored a final
  // result, or run here. False when it is not to run here (handled).
  bool TakeClaim(Interrupts* stop) {
    if (services_.claims == nullptr) return true;
    for (bool waited = false;; waited = true) {
      std::string holder;
      TaskClaims::Result claim = services_.claims->Claim(task_.id, &holder);
      if (claim != TaskClaims::Result::kHeld) {
        if (!waited || !EndedElsewhere()) return true;
        services_.claims->Release(task_.id);
        Done();
        return false;
      }
      if (!waited)
        LogWarning("task {}: still running under {}: waiting for that run to end", task_.id,
                   holder);
      if (int sig = WaitForStop(stop, std::chrono::seconds(1)); sig != 0) {
        if (IsRevoked()) {
          // The run holding it reports its own end.
          Revoked(Gate::kRevoked, 0, nullptr);
          Done();
          return false;
        }
        if (services_.stopping_jobs && services_.stopping_jobs()) {
          Requeue("stopped by the worker's shutdown while waiting for the run holding it");
          return false;
        }
      }
    }
  }

  // A stop request's signal within `timeout`, else 0.
  static int WaitForStop(Interrupts* stop, std::chrono::milliseconds timeout) {
    if (stop == nullptr || stop->fd() < 0) {
      std::this_thread::sleep_for(timeout);
      return 0;
    }
    pollfd fd{stop->fd(), POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(timeout.count())) <= 0) return 0;
    return stop->Take();
  }

  // A redelivered task whose earlier run already ended is not run twice.
  bool AlreadyFinished() { return delivery_.redelivered && EndedElsewhere(); }

  // Whether an earlier run of this task ended: its result is final, or its
  // terminal status was sent (by this worker, or by any, as the status
  // Redis's hysds-job-status-<id> says; also when no result was stored).
  bool EndedElsewhere() {
    std::string state = services_.results->StoredState(task_.id);
    std::string ended = IsReadyState(state) ? state : TerminalStatusSent();
    if (ended.empty()) return false;
    std::string reason = fmt::format(
        "redelivered, but its earlier run already ended in {}; not running it again", ended);
    // Its terminal status was sent when that run ended: a task gets exactly
    // one, so none is sent for this copy (a job-deduped after job-completed
    // would be the last word on a job that did complete).
    LogWarning("task {}: job-deduped: {}", task_.id, reason);
    if (!IsReadyState(state)) {
      // As HySDS's redelivered_job_dup: the task's result is the dedup summary.
      JobOutcome deduped;
      deduped.status = "job-deduped";
      Json summary = Summary(JobPayload(), deduped, services_.nodename);
      summary.erase("job_url");
      StoreResult("SUCCESS", summary);
    }
    Ended("job-deduped", true);
    return true;
  }

  // The status an earlier run ended with, as this worker sent it or the
  // status Redis holds it, "" when none. job-failed does not count: a run
  // lost with its worker is closed out as job-failed by the worker's next
  // life, and its task is run again (as HySDS reruns a redelivered task
  // that did not complete). A run that really failed stored its FAILURE
  // before its ack.
  std::string TerminalStatusSent() {
    auto ended = [](const std::string& status) {
      return status == kJobCompleted || status == "job-deduped" || status == kJobRevoked;
    };
    if (services_.reporter != nullptr) {
      std::string sent = services_.reporter->sink()->TerminalAccepted(task_.id);
      if (ended(sent)) return sent;
    }
    if (services_.keys == nullptr) return "";
    std::string status = services_.keys->JobStatus(task_.id);
    return ended(status) ? status : "";
  }

  // The job as run_job receives it, with what the worker adds.
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

  bool IsRevoked() const {
    return services_.revoked != nullptr && services_.revoked->Contains(task_.id);
  }

  // Revoked through Mozart (the key) while still queued.
  void RevokedInRedis() {
    LogWarning("task {}: hysds-revoked-task-{} is set: revoked, not run", task_.id, task_.id);
    Revoked(Gate::kRevoked, 0, services_.reporter);
    Done();
  }

  void Requeue(const std::string& why) {
    LogWarning("task {}: {}; requeued", task_.id, why);
    services_.events->Send("task-rejected", {{"uuid", task_.id}, {"requeue", true}});
    Finish(BrokerAction::Reject(delivery_.tag, true));
  }

  void Ended(const std::string& status, bool ran) {
    if (services_.job_ended) services_.job_ended(status, ran);
  }

  // HySDS's WorkerExecutionError(error): the job's _alt_error.txt when it
  // wrote one; the traceback is its _alt_traceback.txt, else the error (a
  // job has no Python traceback), as in HySDS's status.
  void Fail(const JobOutcome& outcome) {
    StatusDetails details = FinalStatusDetails(outcome);
    const std::string& traceback = details.traceback.empty() ? details.error : details.traceback;
    StoreResult("FAILURE",
                ExceptionResult("WorkerExecutionError", "hysds.job_worker", details.error),
                traceback);
    services_.events->Send(
        "task-failed", {{"uuid", task_.id},
                        {"exception", "WorkerExecutionError(" + PythonRepr(details.error) + ")"},
                        {"traceback", traceback}});
  }

  // The producer's ignore_result header is honoured: nothing is stored.
  void StoreResult(const std::string& state, const Json& result, const Json& traceback = nullptr) {
    if (task_.ignore_result.value_or(false)) return;
    Status stored = services_.results->Store(ResultTask(), state, result, traceback);
    if (!stored.ok() && IsReadyState(state)) unstored_ = Unstored{state, result, traceback};
  }

  // The task as its result document describes it: with the tasks it sent.
  TaskMessage ResultTask() const {
    TaskMessage task = task_;
    task.children = children_;
    return task;
  }

  // REVOKED stored and announced; with a `reporter`, HySDS's job-revoked
  // status too (none when the job's own run reported its end).
  void Revoked(Gate why, int signum, StatusReporter* reporter) {
    Status stored =
        AnnounceRevoked(task_, why, signum, services_.results, services_.events, reporter);
    if (!stored.ok()) unstored_ = Unstored{"REVOKED", RevokedResult(why, signum), nullptr};
  }

  // The ack, once the task's terminal result is stored. One the backend
  // would not take is kept, and the message stays unacked until it is.
  void Done() {
    if (unstored_ && services_.unstored != nullptr) {
      services_.unstored->Keep(ResultTask(), unstored_->state, unstored_->result,
                               unstored_->traceback, services_.acks_late ? ack_ : nullptr, false);
      kept_ = true;
      return;
    }
    if (services_.acks_late) Finish(BrokerAction::Ack(delivery_.tag));
  }

  // Acks (or rejects) the delivery the task has now: its own, or the
  // redelivered copy it adopted after a reconnect.
  void Finish(BrokerAction action) {
    TaskDelivery target = ack_->Get();
    action.delivery_tag = target.tag;
    action.connection = target.connection;
    services_.outbox->Push(std::move(action));
  }

  const TaskMessage& task_;
  const TaskDelivery& delivery_;
  const TaskServices& services_;
  std::shared_ptr<AckTarget> ack_;
  std::vector<std::string> children_;  // the tasks it sent
  // The terminal state and result the backend would not take, and whether
  // it went to services_.unstored.
  struct Unstored {
    std::string state;
    Json result, traceback;
  };
  std::optional<Unstored> unstored_;
  bool kept_ = false;
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

std::string JobIdOf(const TaskMessage& task) {
  if (!task.args.is_array() || task.args.empty() || !task.args[0].is_object()) return "";
  auto it = task.args[0].find("job_id");
  return it != task.args[0].end() && it->is_string() ? it->get<std::string>() : "";
}

void RunJobTask(const TaskMessage& task, const TaskDelivery& delivery, const TaskServices& services,
                Interrupts* stop, std::shared_ptr<AckTarget> ack) {
  ScopedLogContext context(task.id, JobIdOf(task));
  TaskRun(task, delivery, services, std::move(ack)).Run(stop);
}

}  // namespace verdi
