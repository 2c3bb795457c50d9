// Sending Celery events from any thread: built here, published by the
// connection thread through the outbox on the `celeryev` topic exchange.
#pragma once

#include <atomic>
#include <string>

#include "events/celery_event.h"
#include "verdi/amqp/outbox.h"

namespace verdi {

inline constexpr const char* kEventExchange = "celeryev";

/// Thread-safe. Worker events (worker-*) are always sent; task events
/// (task-*) only when `task_events` is on (Celery's -E).
class EventPublisher {
 public:
  EventPublisher(EventSender sender, Outbox* outbox, bool task_events)
      : sender_(std::move(sender)), outbox_(outbox), task_events_(task_events) {}

  /// Sends event `type` with `fields` (the standard fields are added).
  void Send(const std::string& type, Json fields = Json::object());

  LamportClock& clock() { return clock_; }
  /// Task events on or off (remote control enable_events / disable_events).
  bool task_events() const { return task_events_; }
  void set_task_events(bool on) { task_events_ = on; }
  const std::string& hostname() const { return sender_.hostname; }

 private:
  EventSender sender_;
  Outbox* outbox_;
  std::atomic<bool> task_events_;
  LamportClock clock_;
};

}  // namespace verdi
