// The worker's revoked task ids (Celery's worker_state.revoked): bounded, the
// oldest forgotten first. Thread-safe: the connection thread adds, job slots
// check before and after running a job.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

namespace verdi {

class RevokedSet {
 public:
  explicit RevokedSet(size_t limit = 50000) : limit_(limit) {}

  void Add(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ids_.insert(id).second) return;
    order_.push_back(id);
    while (order_.size() > limit_) {
      ids_.erase(order_.front());
      order_.pop_front();
    }
  }

  bool Contains(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_.count(id) != 0;
  }

  /// Oldest first.
  std::vector<std::string> List() const {
    std::lock_guard<std::mutex> lock(mu_);
    return {order_.begin(), order_.end()};
  }

 private:
  size_t limit_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> ids_;
  std::deque<std::string> order_;
};

}  // namespace verdi
