// The worker's job slots: the threads that run jobs, each stoppable on its own.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "verdi/celery/task_message.h"
#include "verdi/process/interrupts.h"
#include "verdi/worker/run_job_task.h"

namespace verdi {

/// One accepted task on its way to a job slot.
struct Work {
  TaskMessage task;
  TaskDelivery delivery;
  /// What the task acks when it ends; made by Submit.
  std::shared_ptr<AckTarget> ack;
};

/// Where task intake hands accepted work: the job slots, or a fake in tests.
class WorkSink {
 public:
  virtual ~WorkSink() = default;
  virtual void Submit(Work work) = 0;
  /// When task `id` runs here already, makes it ack `delivery` (a
  /// redelivered copy of it, after a reconnect) when it ends, and returns
  /// true.
  virtual bool Adopt(const std::string& id, const TaskDelivery& delivery) = 0;
};

/// The job slots: threads taking Work from one queue and running each with
/// RunJobTask. At most `active` jobs run at once (Celery's pool size:
/// -c, moved by pool_grow / pool_shrink, or by --autoscale between its
/// minimum and maximum); a thread is added when `active` outgrows them.
/// Each slot has its own stop requests, so the connection thread can stop a
/// job (revoke) or all of them (shutdown). Thread-safe.
class Slots : public WorkSink {
 public:
  Slots(int count, const TaskServices& services, int active) : services_(services) {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = active;
    AddThreads(count);
  }
  Slots(int count, const TaskServices& services) : Slots(count, services, count) {}

  ~Slots() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
    for (auto& slot : slots_) slot->thread.join();
  }

  void Submit(Work work) override {
    if (!work.ack) work.ack = std::make_shared<AckTarget>(work.delivery);
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(work));
    }
    cv_.notify_one();
  }

  /// Jobs queued or running.
  size_t Busy() {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size() + running_;
  }

  /// Jobs running.
  size_t Running() {
    std::lock_guard<std::mutex> lock(mu_);
    return running_;
  }

  /// How many jobs may run at once.
  int active() {
    std::lock_guard<std::mutex> lock(mu_);
    return active_;
  }
  /// From now on at most `n` jobs run at once; threads are added when there
  /// are fewer. Lowered below the jobs running, it stops none of them: no
  /// queued job starts until fewer than `n` run.
  void SetActive(int n) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      active_ = n;
      if (n > static_cast<int>(slots_.size())) AddThreads(n - static_cast<int>(slots_.size()));
    }
    cv_.notify_all();
  }

  /// Stops every running job with `sig`; queued work is requeued unrun.
  std::vector<Work> StopAll(int sig) {
    std::vector<Work> unstarted = TakeQueued();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& slot : slots_) slot->stop.Raise(sig);
    return unstarted;
  }

  /// The work not started yet, taken out of the queue.
  std::vector<Work> TakeQueued() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Work> unstarted(std::make_move_iterator(queue_.begin()),
                                std::make_move_iterator(queue_.end()));
    queue_.clear();
    return unstarted;
  }

  bool Adopt(const std::string& id, const TaskDelivery& delivery) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& slot : slots_)
      if (slot->work != nullptr && slot->work->task.id == id) {
        slot->work->ack->Set(delivery);
        return true;
      }
    return false;
  }

  /// Sends `sig` to the running job of task `id`; false when none runs it.
  bool Signal(const std::string& id, int sig) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& slot : slots_)
      if (slot->work != nullptr && slot->work->task.id == id) {
        slot->stop.Raise(sig);
        return true;
      }
    return false;
  }

  /// For remote control: the running tasks (with their start times) and the
  /// queued ones.
  void Snapshot(std::vector<std::pair<Work, double>>* active, std::vector<Work>* queued) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& slot : slots_)
      if (slot->work != nullptr) active->emplace_back(*slot->work, slot->started);
    queued->assign(queue_.begin(), queue_.end());
  }

 private:
  struct Slot {
    EventInterrupts stop;
    const Work* work = nullptr;  // the job it runs, under mu_
    double started = 0;          // UNIX seconds
    std::thread thread;
  };

  // Under mu_.
  void AddThreads(int n) {
    for (int i = 0; i < n; ++i) {
      slots_.push_back(std::make_unique<Slot>());
      Slot* slot = slots_.back().get();
      slot->thread = std::thread([this, slot] { Loop(slot); });
    }
  }

  void Loop(Slot* slot);

  const TaskServices& services_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Slot>> slots_;  // grows only
  std::deque<Work> queue_;
  size_t running_ = 0;
  int active_ = 0;
  bool closed_ = false;
};

}  // namespace verdi
