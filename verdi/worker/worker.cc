#include "verdi/worker/worker.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "base/log.h"
#include "base/redact.h"
#include "verdi/workdir/size_bound.h"
#include "verdi/worker/assembly.h"
#include "verdi/worker/consumers.h"
#include "verdi/worker/control.h"
#include "verdi/worker/echo.h"

namespace verdi {
namespace {

using Clock = std::chrono::steady_clock;

// Where the worker is in its life. Each step only goes forward, except that
// a signal turns retiring into a warm shutdown.
enum class Phase {
  kRunning,   // taking jobs
  kRetiring,  // by its own choice (idle, max runs): no new jobs, no deadline
  kWarm,      // no new jobs; running ones have until the deadline
  kCold,      // running jobs are being stopped and requeued
};

class Worker {
 public:
  Worker(const WorkerSettings& settings, Interrupts* signals)
      : settings_(settings),
        signals_(signals),
        root_(settings.pipeline.root_work_dir.value_or("/data/work")),
        events_({settings.nodename, static_cast<int>(getpid())}, &outbox_, settings.task_events),
        policy_(settings.lifecycle.exit),
        consumers_(settings.queues),
        pidbox_(settings.nodename, settings.limits, settings.task_serializer) {
    if (settings.autoscale_min >= 0)
      autoscale_ = AutoscaleRange{settings.concurrency, settings.autoscale_min};
  }

  int Run() {
    WorkerShared shared{root_,     &outbox_, &events_,
                        &revoked_, &policy_, [this] { return phase_ == Phase::kCold; },
                        &drained_};
    Status st = ParseAmqpUrl(settings_.broker_url, &url_);
    if (st.ok()) st = AssembleWorker(settings_, shared, &parts_);
    if (!st.ok()) {
      LogError("{}", st.message());
      return 2;
    }
    CleanUpEarlierLife(settings_, root_);
    parts_.lifecycle->BoundWorkRoot();
    LogInfo(
        "{} ready: {} job slots, queues {}, broker {}", settings_.nodename,
        settings_.autoscale_min < 0
            ? std::to_string(settings_.concurrency)
            : fmt::format("{} to {} (autoscale)", settings_.autoscale_min, settings_.concurrency),
        consumers_.Names(), RedactUrls(settings_.broker_url));

    while (!Finished()) {
      if (!link_.connected() && phase_ == Phase::kRunning) Connect();
      Wait();
      HandleSignals();
      CheckDrain();
      CheckLifecycle();
      Receive();
      if (int n = parts_.intake->ReleaseDue(Clock::now(), WallClock::now()); n > 0) TookRuns(n);
      UpdatePrefetch();
      outbox_.FlushTo(&link_, connection_);
      CheckShutdownDeadline();
      Autoscale();
      Heartbeat();
      if (parts_.metrics) {
        parts_.metrics->Update(parts_.slots->Busy(), sink());
        parts_.metrics->Beat(NotReady());
      }
    }
    parts_.slots.reset();     // joins the slot threads: every job has closed out
    parts_.unstored.reset();  // what is still not stored stays unacked (and on disk)
    events_.Send("worker-offline", WorkerFields());
    outbox_.FlushTo(&link_, connection_);
    if (size_t kept = outbox_.retained(); kept > 0)
      LogError("{}: {} trigger messages never reached the broker: they are lost",
               settings_.nodename, kept);
    link_.Close();
    if (settings_.lifecycle.delete_work_dir_on_exit) {
      Status deleted = DeleteWorkRoot(root_);
      if (deleted.ok())
        LogInfo("{}: work root {} deleted (--delete-work-dir-on-exit)", settings_.nodename,
                root_.string());
      else
        LogError("{}: {}", settings_.nodename, deleted.message());
    }
    LogInfo("{} stopped", settings_.nodename);
    if (drain_exit_) return kJobDrainExitCode;
    return policy_.StopReason() ? kInfrastructureErrorExitCode : 0;
  }

 private:
  StatusSink* sink() const {
    return settings_.reporter != nullptr ? settings_.reporter->sink() : nullptr;
  }

  // The pool's size as the broker's window counts it: the job slots, or
  // with autoscale its maximum (as Celery's).
  int PoolSize() const { return autoscale_ ? autoscale_->max : parts_.slots->active(); }

  uint16_t Prefetch() const {
    if (settings_.prefetch_multiplier <= 0) return 0;
    // Messages held unacked (ETA tasks, results waiting to be stored) must
    // not keep others from coming.
    size_t count = static_cast<size_t>(PoolSize()) * settings_.prefetch_multiplier +
                   parts_.intake->held_count() + parts_.unstored->size();
    return static_cast<uint16_t>(std::min<size_t>(count, 65535));
  }

  // Connects, declares and consumes; on failure waits (backoff) for the next
  // attempt while still answering signals.
  void Connect() {
    if (Clock::now() < next_attempt_) return;
    Status st = link_.Connect(url_, settings_.broker_tls);
    if (st.ok()) st = consumers_.Declare(&link_);
    if (st.ok()) st = link_.DeclareExchange(kEventExchange, "topic", true, false);
    parts_.intake->ForgetHeld();  // unacked ETA tasks come back from the broker
    if (st.ok()) st = link_.SetPrefetch(prefetch_ = Prefetch());
    if (st.ok()) st = consumers_.Consume(&link_);
    if (st.ok()) pidbox_.Consume(&link_);
    if (st.ok()) {
      ++connection_;
      policy_.Connected(Clock::now());
      backoff_ = std::chrono::milliseconds(0);
      LogInfo("connected to {}", RedactUrls(settings_.broker_url));
      events_.Send("worker-online", WorkerFields());
      next_heartbeat_ = Clock::now() + settings_.heartbeat_interval;
      return;
    }
    link_.Close();
    backoff_ = std::clamp(backoff_ * 2, settings_.reconnect_min, settings_.reconnect_max);
    next_attempt_ = Clock::now() + backoff_;
    // The message names the broker (its URL redacted) already.
    LogWarning("broker: {}; next attempt in {} ms", st.message(), backoff_.count());
    if (policy_.ConnectFailed(st.message())) LogError("--exit-on-exception: the broker is gone");
  }

  // Sleeps until the broker, a slot or a signal has something, or the next
  // timer (ETA, reconnect, shutdown deadline, heartbeat upkeep).
  void Wait() {
    auto timeout = std::chrono::milliseconds(250);
    auto until = [&](Clock::time_point t) {
      auto d = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now());
      timeout = std::clamp(d, std::chrono::milliseconds(0), timeout);
    };
    if (auto due = parts_.intake->NextDue()) until(*due);
    until(link_.connected() ? next_heartbeat_ : next_attempt_);
    if (link_.connected() && link_.HasBufferedData()) timeout = std::chrono::milliseconds(0);
    pollfd fds[3] = {{outbox_.fd(), POLLIN, 0}, {signals_->fd(), POLLIN, 0}, {-1, POLLIN, 0}};
    if (link_.connected()) fds[2].fd = link_.fd();
    poll(fds, 3, static_cast<int>(timeout.count()));
  }

  // Why the worker cannot take work now ("" when it can): for /readyz.
  std::string NotReady() const {
    if (phase_ != Phase::kRunning) return "shutting down, or retiring: taking no new jobs";
    if (!link_.connected()) return "not connected to the broker";
    if (consumers_.Names().empty()) return "consuming no queue";
    return "";
  }

  bool TakingJobs() const { return phase_ == Phase::kRunning; }
  // A warm shutdown may still begin: from running, or from retiring.
  bool MayStopWarm() const { return phase_ == Phase::kRunning || phase_ == Phase::kRetiring; }

  void HandleSignals() {
    while (int sig = signals_->Take()) {
      if (sig == SIGHUP) {
        // logrotate's signal: a new log file; the worker goes on.
        if (ReopenLogFile())
          LogInfo("{}: SIGHUP: log file reopened", settings_.nodename);
        else
          LogError("{}: SIGHUP: cannot reopen the log file: {}", settings_.nodename,
                   strerror(errno));
        continue;
      }
      if (settings_.lifecycle.pass_down_termination && sig != SIGQUIT) {
        LogWarning("{}: --pass-down-termination: signal {} goes to the running jobs",
                   settings_.nodename, sig);
        ColdShutdown(sig);
      } else if (MayStopWarm() && sig != SIGQUIT) {
        WarmShutdown(fmt::format("signal {}", sig));
      } else {
        ColdShutdown(sig);
      }
    }
  }

  void WarmShutdown(const std::string& why) {
    LogWarning("{}: warm shutdown ({}): no new jobs; running jobs have {} s to finish",
               settings_.nodename, why, settings_.shutdown_timeout.count());
    phase_ = Phase::kWarm;
    deadline_ = Clock::now() + settings_.shutdown_timeout;
    StopConsuming();
  }

  // Stops taking jobs and exits once the running ones have ended, however
  // long they take (a later signal makes it a warm shutdown).
  void Retire(const std::string& why) {
    LogInfo("{}: {}: no new jobs; exiting when the running ones end", settings_.nodename, why);
    phase_ = Phase::kRetiring;
    StopConsuming();
  }

  void ColdShutdown(int sig) {
    if (phase_ == Phase::kCold) return;
    LogWarning("{}: cold shutdown (signal {}): stopping running jobs; they are requeued",
               settings_.nodename, sig);
    phase_ = Phase::kCold;
    StopConsuming();
    for (auto& work : parts_.slots->StopAll(SIGTERM)) Requeue(work.delivery);
  }

  void StopConsuming() {
    consumers_.CancelAll(&link_);
    parts_.intake->RequeueHeld();  // ETA tasks held unacked go back for another worker
  }

  void CheckShutdownDeadline() {
    if (phase_ == Phase::kWarm && Clock::now() >= deadline_ && parts_.slots->Busy() > 0)
      ColdShutdown(SIGTERM);
  }

  bool Finished() { return !TakingJobs() && parts_.slots->Busy() == 0; }

  // After a job drain (HySDS's job-drain protection): no more jobs; those
  // not started go back.
  void CheckDrain() {
    if (!drained_.exchange(false) || drain_exit_) return;
    drain_exit_ = true;
    if (MayStopWarm()) WarmShutdown("job drain detected");
    for (auto& work : parts_.slots->TakeQueued()) Requeue(work.delivery);
  }

  // The lifecycle's reasons to stop (exit_policy.h): an infrastructure
  // error, idleness. Running jobs finish first.
  void CheckLifecycle() {
    if (settings_.lifecycle.exit.exit_on_exception) {
      if (parts_.results->failures() > 0)
        policy_.InfrastructureError("results could not be stored in the result backend");
      if (sink() != nullptr && sink()->stats().dropped > 0)
        policy_.InfrastructureError("statuses were dropped: the status Redis is gone");
      if (auto why = policy_.StopReason(); why && MayStopWarm())
        return WarmShutdown("--exit-on-exception: " + *why);
    }
    if (!TakingJobs() || !settings_.lifecycle.exit.idle) return;
    if (policy_.IdleLongEnough(parts_.slots->Busy() + parts_.intake->held_count(), Clock::now()))
      Retire(fmt::format("no job for {} s (--exit-when-idle)",
                         settings_.lifecycle.exit.idle->count() / 1000.0));
  }

  // Every submitted job counts towards --exit-after-num-runs.
  void TookRuns(int n) {
    for (int i = 0; i < n; ++i)
      if (policy_.RunTaken() && TakingJobs())
        Retire(
            fmt::format("took {} jobs (--exit-after-num-runs)", settings_.lifecycle.exit.max_runs));
  }

  void Requeue(const TaskDelivery& delivery) {
    BrokerAction reject = BrokerAction::Reject(delivery.tag, true);
    reject.connection = delivery.connection;
    outbox_.Push(std::move(reject));
  }

  void Receive() {
    if (!link_.connected()) return;
    for (;;) {
      AmqpDelivery delivery;
      bool got = false;
      Status st = link_.Poll(std::chrono::milliseconds(0), &delivery, &got);
      if (!st.ok()) {
        LogWarning("broker connection lost: {}; running jobs go on", st.message());
        link_.Close();
        return;
      }
      if (!got) break;
      if (pidbox_.Owns(delivery)) {
        auto snapshot = [this] { return Snapshot(); };
        if (auto effects = pidbox_.Handle(delivery, snapshot, &events_, &link_)) Apply(*effects);
      } else if (settings_.lifecycle.echo) {
        Echo(delivery);
      } else {
        auto result = parts_.intake->Accept(delivery, connection_, !TakingJobs(), WallClock::now());
        if (result == TaskIntake::Result::kSubmitted) TookRuns(1);
      }
    }
  }

  // A message held unacked must not block others: the prefetch grows with
  // the held ones (ETA tasks here, unstored results from the slots too).
  void UpdatePrefetch() {
    if (!link_.connected() || Prefetch() == prefetch_) return;
    link_.SetPrefetch(prefetch_ = Prefetch());
  }

  // --echo: the message is shown and acked; nothing runs.
  void Echo(const AmqpDelivery& delivery) {
    if (!TakingJobs()) return Requeue({delivery.delivery_tag, connection_});
    Json described = DescribeDelivery(delivery, settings_.limits);
    LogInfo("echo: {}", described.dump(-1, ' ', false, Json::error_handler_t::replace));
    link_.Ack(delivery.delivery_tag);
    policy_.Touch(Clock::now());
  }

  WorkerSnapshot Snapshot() {
    return TakeSnapshot({&settings_, &parts_, &consumers_, &revoked_, &events_, &url_, started_,
                         Prefetch(), autoscale_});
  }

  void Apply(const ControlEffects& e) {
    for (const auto& id : e.revoke) {
      revoked_.Add(id);
      if (e.terminate_signal != 0 && parts_.slots->Signal(id, e.terminate_signal))
        LogWarning("task {}: revoked: terminating its job (signal {})", id, e.terminate_signal);
    }
    if (!e.revoke.empty()) parts_.intake->EndUnrunnableHeld(WallClock::now());
    if (e.task_events) events_.set_task_events(*e.task_events);
    if (e.pool_size) ResizePool(*e.pool_size);
    if (e.autoscale) SetAutoscale(*e.autoscale);
    if (e.heartbeat)
      events_.Send("worker-heartbeat",
                   WorkerEventFields(5.0, static_cast<int64_t>(parts_.slots->Busy()),
                                     parts_.intake->processed()));
    if (!e.add_consumer.empty() && TakingJobs()) consumers_.Add(&link_, e.add_consumer);
    if (!e.cancel_consumer.empty()) consumers_.Cancel(&link_, e.cancel_consumer);
    if (e.shutdown && TakingJobs()) WarmShutdown("remote control shutdown");
  }

  Json WorkerFields() {
    return WorkerEventFields(std::chrono::duration<double>(settings_.heartbeat_interval).count(),
                             static_cast<int64_t>(parts_.slots ? parts_.slots->Busy() : 0),
                             parts_.intake ? parts_.intake->processed() : 0);
  }

  // pool_grow, pool_shrink: as many jobs at once from now on. Running jobs
  // are never stopped: after a shrink no new one starts until fewer run.
  // The broker's window follows (UpdatePrefetch).
  void ResizePool(int size) {
    int before = parts_.slots->active();
    parts_.slots->SetActive(size);
    if (parts_.metrics) parts_.metrics->SetSlots(size);
    LogInfo("{}: remote control: pool of {} -> {} job slots ({} jobs running)", settings_.nodename,
            before, size, parts_.slots->Running());
  }

  // autoscale(max, min): the new range; the pool is brought within it now
  // and the autoscaler moves it inside from then on.
  void SetAutoscale(AutoscaleRange range) {
    autoscale_ = range;
    if (parts_.metrics) parts_.metrics->SetSlots(range.max);
    int active = parts_.slots->active();
    int wanted = std::clamp(active, range.min, range.max);
    LogInfo("{}: remote control: autoscale now max={} min={} ({} -> {} job slots)",
            settings_.nodename, range.max, range.min, active, wanted);
    if (wanted > active) last_scale_up_ = Clock::now();
    parts_.slots->SetActive(wanted);
  }

  // --autoscale MAX,MIN: as Celery's autoscaler, more slots at once when
  // tasks wait for one, fewer after autoscale_keepalive without needing them.
  void Autoscale() {
    if (!autoscale_) return;
    auto now = Clock::now();
    int active = parts_.slots->active();
    int busy = static_cast<int>(parts_.slots->Busy());
    int wanted = std::clamp(busy, autoscale_->min, autoscale_->max);
    if (wanted > active) {
      last_scale_up_ = now;
    } else if (wanted == active || now - last_scale_up_ < settings_.autoscale_keepalive) {
      return;
    }
    LogInfo("{}: autoscale: {} -> {} job slots ({} jobs queued or running)", settings_.nodename,
            active, wanted, busy);
    parts_.slots->SetActive(wanted);
  }

  void Heartbeat() {
    if (!settings_.send_heartbeats) return;
    if (!link_.connected() || Clock::now() < next_heartbeat_) return;
    events_.Send("worker-heartbeat", WorkerFields());
    next_heartbeat_ = Clock::now() + settings_.heartbeat_interval;
  }

  const WorkerSettings& settings_;
  Interrupts* signals_;
  fs::path root_;
  Outbox outbox_;
  EventPublisher events_;
  ExitPolicy policy_;
  Consumers consumers_;
  Pidbox pidbox_;
  AmqpUrl url_;
  AmqpLink link_;
  uint64_t connection_ = 0;  // counts connections: acks for older ones are dropped
  uint16_t prefetch_ = 0;    // as last set on the connection
  RevokedSet revoked_;
  Clock::time_point started_ = Clock::now();
  WorkerParts parts_;
  std::atomic<Phase> phase_{Phase::kRunning};
  std::atomic<bool> drained_{false};  // set by a job slot; handled once
  bool drain_exit_ = false;
  Clock::time_point deadline_;
  Clock::time_point next_heartbeat_;
  Clock::time_point next_attempt_;
  Clock::time_point last_scale_up_ = Clock::now();
  std::optional<AutoscaleRange> autoscale_;  // --autoscale, as remote control moved it
  std::chrono::milliseconds backoff_{0};
};

}  // namespace

int RunWorker(const WorkerSettings& settings, Interrupts* signals) {
  return Worker(settings, signals).Run();
}

}  // namespace verdi
