#include "verdi/worker/slots.h"

namespace verdi {

void Slots::Loop(Slot* slot) {
  for (;;) {
    Work work;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] {
        return closed_ || (!queue_.empty() && running_ < static_cast<size_t>(active_));
      });
      if (queue_.empty() || running_ >= static_cast<size_t>(active_)) {
        if (closed_) return;
        continue;
      }
      work = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    while (slot->stop.Take() != 0) {
    }  // a stop meant for the previous job
    {
      std::lock_guard<std::mutex> lock(mu_);
      slot->work = &work;
      slot->started = std::chrono::duration<double>(WallClock::now().time_since_epoch()).count();
    }
    RunJobTask(work.task, work.delivery, services_, &slot->stop, work.ack);
    {
      std::lock_guard<std::mutex> lock(mu_);
      slot->work = nullptr;
      --running_;
    }
    // A job that ended frees room for queued work another thread waits for
    // (this one may be beyond the pool's new size).
    cv_.notify_one();
  }
}

}  // namespace verdi
