// The worker's revoked task ids (Celery's worker_state.revoked): bounded, the
// oldest forgotten first, each with the time it was revoked. Thread-safe: the
// connection thread adds, job slots check before and after running a job.
#pragma once

#include <time.h>

#include <deque>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

namespace verdi {

/// One revoked id and when: seconds of CLOCK_MONOTONIC, the clock of Python's
/// time.monotonic(), which Celery's LimitedSet keeps and mingle's `hello`
/// exchanges (as a float).
struct RevokedEntry {
  std::string id;
  double revoked_at = 0;
};

class RevokedSet {
 public:
  explicit RevokedSet(size_t limit = 50000) : limit_(limit) {}

  /// Adds `id` revoked now; an id already there keeps its time.
  void Add(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ids_.insert(id).second) return;
    order_.push_back({id, MonotonicSeconds()});
    while (order_.size() > limit_) {
      ids_.erase(order_.front().id);
      order_.pop_front();
    }
  }

  bool Contains(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_.count(id) != 0;
  }

  /// Oldest first.
  std::vector<RevokedEntry> List() const {
    std::lock_guard<std::mutex> lock(mu_);
    return {order_.begin(), order_.end()};
  }

  static double MonotonicSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  }

 private:
  size_t limit_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> ids_;
  std::deque<RevokedEntry> order_;
};

}  // namespace verdi
