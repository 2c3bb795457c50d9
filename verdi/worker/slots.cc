#include "verdi/worker/slots.h"

namespace verdi {

void Slots::Loop(int slot) {
  for (;;) {
    Work work;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this, slot] { return closed_ || (!queue_.empty() && slot < active_); });
      if (queue_.empty() || slot >= active_) {
        if (closed_) return;
        continue;
      }
      work = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    while (stops_[slot].Take() != 0) {
    }  // a stop meant for the previous job
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_work_[slot] = {
          &work, std::chrono::duration<double>(WallClock::now().time_since_epoch()).count()};
    }
    RunJobTask(work.task, work.delivery, services_, &stops_[slot], work.ack);
    std::lock_guard<std::mutex> lock(mu_);
    running_work_[slot] = {};
    --running_;
  }
}

}  // namespace verdi
