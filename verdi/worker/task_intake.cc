#include "verdi/worker/task_intake.h"

#include "base/log.h"
#include "verdi/worker/run_job_task.h"

namespace verdi {
namespace {

Json ReceivedFields(const TaskMessage& task) {
  auto iso = [](const std::optional<WallClock::time_point>& t) {
    return t ? Json(FormatIsoTime(*t)) : Json(nullptr);
  };
  return {{"uuid", task.id},
          {"name", task.task},
          {"args", PythonRepr(task.args)},
          {"kwargs", PythonRepr(task.kwargs)},
          {"root_id", task.root_id.empty() ? Json(task.id) : Json(task.root_id)},
          {"parent_id", task.parent_id.empty() ? Json(nullptr) : Json(task.parent_id)},
          {"retries", task.retries},
          {"eta", iso(task.eta)},
          {"expires", iso(task.expires)}};
}

BrokerAction On(BrokerAction action, const TaskDelivery& delivery) {
  action.connection = delivery.connection;
  return action;
}

}  // namespace

TaskIntake::Result TaskIntake::Accept(const AmqpDelivery& delivery, uint64_t connection,
                                      bool stopping, WallClock::time_point now) {
  TaskDelivery from{delivery.delivery_tag, connection,           delivery.redelivered,
                    delivery.exchange,     delivery.routing_key, delivery.priority};
  TaskMessage task;
  Status st = DecodeTaskMessage(delivery, s_.limits, &task);
  ScopedLogContext context(task.id, JobIdOf(task));
  if (st.ok() && from.redelivered && s_.unstored != nullptr && s_.unstored->Adopt(task, from)) {
    // It ended here (or in an earlier life on this node) but its result
    // never reached the backend: stored now, then this copy acked.
    LogWarning(
        "task {}: redelivered; it ended already and its result waits to be stored: not "
        "run again",
        task.id);
    return Result::kAdopted;
  }
  bool noop = st.ok() && task.task == kNoopTaskName;
  if (st.ok() && !noop && task.task != kRunJobTaskName) {
    LogWarning("task {}: unknown task \"{}\": rejected (NotRegistered)", task.id, task.task);
    Json result = ExceptionResult("NotRegistered", "celery.exceptions", task.task);
    Settle(task, from, s_.results->Store(task, "FAILURE", result, nullptr), "FAILURE", result,
           nullptr, true);
    return Result::kRefused;
  }
  if (st.ok() && !noop) st = CheckRunJobArguments(task);
  if (!st.ok()) return Refuse(task, from, st);
  if (stopping) {
    s_.outbox->Push(On(BrokerAction::Reject(from.tag, true), from));
    return Result::kRequeued;
  }
  if (Gate gate = CheckGate(task, s_.revoked, now); gate != Gate::kRun) {
    if (gate == Gate::kExpired)
      LogWarning("task {}: expired at {}: revoked, not run", task.id, IsoUtc(*task.expires));
    else
      LogWarning("task {}: revoked: not run", task.id);
    EndUnrun(task, from, gate);
    return Result::kEnded;
  }
  ++processed_;
  s_.events->Send("task-received", ReceivedFields(task));
  if (s_.metrics != nullptr) s_.metrics->Received(task, now);
  if (task.eta && *task.eta > now) {
    auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(*task.eta - now);
    LogInfo("task {}: held until its ETA {}", task.id, IsoUtc(*task.eta));
    held_.emplace(std::chrono::steady_clock::now() + wait, Work{std::move(task), from});
    return Result::kHeld;
  }
  if (from.redelivered && s_.slots->Adopt(task.id, from)) {
    // The broker gave back a task that still runs here (its first delivery
    // was on a connection since lost): one run, acked on this delivery.
    LogWarning("task {}: redelivered while it runs here: not run twice", task.id);
    return Result::kAdopted;
  }
  Dispatch(Work{std::move(task), from});
  return Result::kSubmitted;
}

void TaskIntake::Dispatch(Work work) {
  if (work.task.task == kNoopTaskName) return RunNoop(work.task, work.delivery);
  s_.slots->Submit(std::move(work));
}

void TaskIntake::RunNoop(const TaskMessage& task, const TaskDelivery& from) {
  auto started = std::chrono::steady_clock::now();
  s_.events->Send("task-started", {{"uuid", task.id}});
  Status stored = s_.results->Store(task, "SUCCESS", nullptr, nullptr);
  double runtime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  s_.events->Send("task-succeeded", {{"uuid", task.id}, {"result", "None"}, {"runtime", runtime}});
  Settle(task, from, stored, "SUCCESS", nullptr, nullptr, false);
}

TaskIntake::Result TaskIntake::Refuse(const TaskMessage& task, const TaskDelivery& from,
                                      const Status& why) {
  LogWarning("rejected message {} (task {}): {}", from.tag, task.id.empty() ? "?" : task.id,
             why.message());
  // A known id gets its FAILURE even without a task name, so a client
  // waiting on that id is answered instead of waiting forever.
  if (task.id.empty()) {
    s_.outbox->Push(On(BrokerAction::Reject(from.tag, false), from));
    return Result::kRefused;
  }
  std::string error = "rejected: " + why.message();
  Json result = ExceptionResult("WorkerExecutionError", "hysds.job_worker", error);
  Status stored = s_.results->Store(task, "FAILURE", result, error);
  s_.events->Send("task-rejected", {{"uuid", task.id}, {"requeue", false}});
  Settle(task, from, stored, "FAILURE", result, error, true);
  return Result::kRefused;
}

int TaskIntake::ReleaseDue(SteadyTime now, WallClock::time_point wall_now) {
  int submitted = 0;
  while (!held_.empty() && held_.begin()->first <= now) {
    Work work = std::move(held_.begin()->second);
    held_.erase(held_.begin());
    if (Gate gate = CheckGate(work.task, s_.revoked, wall_now); gate != Gate::kRun) {
      EndUnrun(work.task, work.delivery, gate);
      continue;
    }
    Dispatch(std::move(work));
    ++submitted;
  }
  return submitted;
}

void TaskIntake::EndUnrunnableHeld(WallClock::time_point now) {
  for (auto it = held_.begin(); it != held_.end();) {
    Gate gate = CheckGate(it->second.task, s_.revoked, now);
    if (gate == Gate::kRun) {
      ++it;
      continue;
    }
    EndUnrun(it->second.task, it->second.delivery, gate);
    it = held_.erase(it);
  }
}

void TaskIntake::RequeueHeld() {
  for (auto& [when, work] : held_)
    s_.outbox->Push(On(BrokerAction::Reject(work.delivery.tag, true), work.delivery));
  held_.clear();
}

std::optional<TaskIntake::SteadyTime> TaskIntake::NextDue() const {
  if (held_.empty()) return std::nullopt;
  return held_.begin()->first;
}

void TaskIntake::EndUnrun(const TaskMessage& task, const TaskDelivery& from, Gate why) {
  Settle(task, from, AnnounceRevoked(task, why, 0, s_.results, s_.events, s_.reporter), "REVOKED",
         RevokedResult(why, 0), nullptr, false);
}

void TaskIntake::Settle(const TaskMessage& task, const TaskDelivery& from, const Status& stored,
                        const std::string& state, const Json& result, const Json& traceback,
                        bool reject) {
  if (!stored.ok() && s_.unstored != nullptr)
    return s_.unstored->Keep(task, state, result, traceback, std::make_shared<AckTarget>(from),
                             reject);
  s_.outbox->Push(
      On(reject ? BrokerAction::Reject(from.tag, false) : BrokerAction::Ack(from.tag), from));
}

}  // namespace verdi
