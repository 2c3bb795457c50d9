// Task intake: what the connection thread does with each delivery from a
// task queue, as Celery's consumer strategy does. A delivery is decoded and
// checked, then refused, ended unrun (expired or revoked, see task_gates.h),
// held until its ETA, handed back to the slot that still runs it (a copy
// redelivered after a reconnect), or submitted to a job slot. The built-in
// verdi.noop runs here instead, on the connection thread: SUCCESS stored,
// then the ack (acks late), no slot and no work dir, so that it answers even
// while every slot is busy. Every ack and reject goes through the outbox,
// stamped with the connection it came on.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>

#include "verdi/amqp/message.h"
#include "verdi/amqp/outbox.h"
#include "verdi/celery/event_publisher.h"
#include "verdi/celery/revoked_set.h"
#include "verdi/celery/task_message.h"
#include "verdi/celery/task_results.h"
#include "verdi/worker/metrics.h"
#include "verdi/worker/slots.h"
#include "verdi/worker/task_gates.h"
#include "verdi/worker/unstored_results.h"

namespace verdi {

class TaskIntake {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  struct Services {
    TaskResults* results = nullptr;
    /// Terminal results the backend would not take; may be null.
    UnstoredResults* unstored = nullptr;
    EventPublisher* events = nullptr;
    Outbox* outbox = nullptr;
    const RevokedSet* revoked = nullptr;
    WorkSink* slots = nullptr;
    WorkerMetrics* metrics = nullptr;  // may be null
    DecodeLimits limits;
    /// job-revoked of the tasks ended unrun; may be null.
    StatusReporter* reporter = nullptr;
  };

  enum class Result {
    kRefused,    // not a valid run_job task: FAILURE stored where possible, rejected
    kRequeued,   // valid, but the worker is stopping: back to the queue
    kEnded,      // expired or revoked: REVOKED, task-revoked, acked, not run
    kHeld,       // waits for its ETA (unacked)
    kAdopted,    // a redelivered copy of a task that runs here, or whose result waits to
                 // be stored: acked when that ends
    kSubmitted,  // on its way to a job slot (verdi.noop: run, stored and acked)
  };

  explicit TaskIntake(Services services) : s_(services) {}

  /// Decides what becomes of one delivery that came on broker connection
  /// `connection`. While `stopping`, valid tasks are requeued.
  Result Accept(const AmqpDelivery& delivery, uint64_t connection, bool stopping,
                WallClock::time_point now);

  /// Held tasks whose ETA has come: submitted, or ended when they expired or
  /// were revoked meanwhile. Returns how many were submitted.
  int ReleaseDue(SteadyTime now, WallClock::time_point wall_now);
  /// Ends the held tasks that must no longer run (after a revoke).
  void EndUnrunnableHeld(WallClock::time_point now);
  /// Every held task back to its queue (the worker stops consuming).
  void RequeueHeld();
  /// Forgets the held tasks: their connection is gone, the broker has them.
  void ForgetHeld() { held_.clear(); }

  size_t held_count() const { return held_.size(); }
  std::optional<SteadyTime> NextDue() const;
  const std::multimap<SteadyTime, Work>& held() const { return held_; }
  /// Tasks accepted for running so far (Celery's `total` in stats).
  int64_t processed() const { return processed_; }

 private:
  Result Refuse(const TaskMessage& task, const TaskDelivery& from, const Status& why);
  // A task that may run now: verdi.noop here, run_job to a slot.
  void Dispatch(Work work);
  // verdi.noop: task-started, SUCCESS (None) stored, task-succeeded, the ack.
  void RunNoop(const TaskMessage& task, const TaskDelivery& from);
  // Ends a task unrun (expired or revoked): REVOKED, task-revoked, the ack.
  void EndUnrun(const TaskMessage& task, const TaskDelivery& from, Gate why);
  // The ack (or reject without requeue) of a task whose terminal result was
  // just stored; when `stored` failed, the result is kept and the message
  // stays unacked until it is stored.
  void Settle(const TaskMessage& task, const TaskDelivery& from, const Status& stored,
              const std::string& state, const Json& result, const Json& traceback, bool reject);

  Services s_;
  std::multimap<SteadyTime, Work> held_;
  int64_t processed_ = 0;
};

}  // namespace verdi
