// The task queues a worker consumes (-Q, plus remote control's
// add_consumer): declared and consumed on each new connection, cancelled
// one by one or all at once. Used by the connection thread only.
#pragma once

#include <string>
#include <vector>

#include "verdi/amqp/link.h"
#include "verdi/celery/remote_control.h"

namespace verdi {

class Consumers {
 public:
  explicit Consumers(std::vector<QueueSpec> queues) : queues_(std::move(queues)) {}

  /// On a new connection, first: declares every queue.
  Status Declare(AmqpLink* link);
  /// Then, once the prefetch is set: consumes every queue.
  Status Consume(AmqpLink* link);
  /// add_consumer: declares and consumes `name` unless it is consumed already.
  void Add(AmqpLink* link, const std::string& name);
  /// cancel_consumer: stops consuming `name`.
  void Cancel(AmqpLink* link, const std::string& name);
  /// Stops consuming every queue (the worker takes no new jobs).
  void CancelAll(AmqpLink* link);

  /// The queues consumed now, for active_queues.
  std::vector<ControlQueue> Active() const;
  /// "a,b": the -Q queues, for log lines.
  std::string Names() const;

 private:
  std::vector<QueueSpec> queues_;
  std::vector<std::string> tags_;  // one per queues_ entry; "" when not consumed
};

}  // namespace verdi
