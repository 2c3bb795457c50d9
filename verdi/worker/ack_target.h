// Where a task message came from, and the delivery a task acks when it ends.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

namespace verdi {

/// Where a task message came from.
struct TaskDelivery {
  uint64_t tag = 0;
  uint64_t connection = 0;  // which broker connection delivered it
  bool redelivered = false;
  std::string exchange, routing_key;
  uint8_t priority = 0;
};

/// The delivery a task acks when it ends. After a broker reconnect the
/// broker redelivers an unacked task while it still runs here (or while its
/// result waits to be stored); the worker then moves the ack to the new
/// delivery (the old one belongs to a lost connection) instead of running
/// the task twice. Thread-safe.
class AckTarget {
 public:
  explicit AckTarget(TaskDelivery delivery) : delivery_(std::move(delivery)) {}
  TaskDelivery Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return delivery_;
  }
  void Set(TaskDelivery delivery) {
    std::lock_guard<std::mutex> lock(mu_);
    delivery_ = std::move(delivery);
  }

 private:
  mutable std::mutex mu_;
  TaskDelivery delivery_;
};

}  // namespace verdi
