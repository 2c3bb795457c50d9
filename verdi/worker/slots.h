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

/// The job slots: N threads taking Work from one queue and running each with
/// RunJobTask. Each slot has its own stop requests, so the connection thread
/// can stop a job (revoke) or all of them (shutdown). Only the first
/// `active` slots take work (Celery's --autoscale moves it between its
/// minimum and N). Thread-safe.
class Slots : public WorkSink {
 public:
  Slots(int count, const TaskServices& services, int active)
      : services_(services), stops_(count), running_work_(count), active_(active) {
    for (int i = 0; i < count; ++i) threads_.emplace_back([this, i] { Loop(i); });
  }
  Slots(int count, const TaskServices& services) : Slots(count, services, count) {}

  ~Slots() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
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

  /// How many slots take work.
  int active() {
    std::lock_guard<std::mutex> lock(mu_);
    return active_;
  }
  /// From now on the first `n` slots take work; a job running in a slot
  /// beyond them finishes first.
  void SetActive(int n) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      active_ = n;
    }
    cv_.notify_all();
  }

  /// Stops every running job with `sig`; queued work is requeued unrun.
  std::vector<Work> StopAll(int sig) {
    std::vector<Work> unstarted = TakeQueued();
    for (auto& stop : stops_) stop.Raise(sig);
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
    for (const auto& r : running_work_)
      if (r.work != nullptr && r.work->task.id == id) {
        r.work->ack->Set(delivery);
        return true;
      }
    return false;
  }

  /// Sends `sig` to the running job of task `id`; false when none runs it.
  bool Signal(const std::string& id, int sig) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < running_work_.size(); ++i)
      if (running_work_[i].work != nullptr && running_work_[i].work->task.id == id) {
        stops_[i].Raise(sig);
        return true;
      }
    return false;
  }

  /// For remote control: the running tasks (with their start times) and the
  /// queued ones.
  void Snapshot(std::vector<std::pair<Work, double>>* active, std::vector<Work>* queued) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& r : running_work_)
      if (r.work != nullptr) active->emplace_back(*r.work, r.started);
    queued->assign(queue_.begin(), queue_.end());
  }

 private:
  void Loop(int slot);

  const TaskServices& services_;
  std::vector<EventInterrupts> stops_;
  struct Running {
    const Work* work = nullptr;
    double started = 0;  // UNIX seconds
  };
  std::vector<Running> running_work_;  // per slot, under mu_
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Work> queue_;
  size_t running_ = 0;
  int active_;
  bool closed_ = false;
};

}  // namespace verdi
