// Remote control at the worker (Celery's pidbox): the node's own queue on
// the broker, and each command on it decoded, answered and turned into what
// the worker must do. What to answer and what to do is decided by
// verdi/celery/remote_control.h from a snapshot of the worker; the worker
// carries out the effects. Used by the connection thread only.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "verdi/amqp/link.h"
#include "verdi/celery/event_publisher.h"
#include "verdi/celery/remote_control.h"
#include "verdi/celery/task_message.h"
#include "verdi/worker/assembly.h"
#include "verdi/worker/consumers.h"
#include "verdi/worker/slots.h"

namespace verdi {

class Pidbox {
 public:
  /// Replies are written in `serializer` (Celery's mailbox serializer,
  /// task_serializer), as a Python worker configured alike writes them.
  Pidbox(std::string nodename, DecodeLimits limits, Serializer serializer)
      : nodename_(std::move(nodename)), limits_(limits), serializer_(serializer) {}

  /// Declares and consumes this node's pidbox queue on a new connection. A
  /// failure (e.g. another worker with the same node name holds the
  /// exclusive queue) is logged: the worker runs on without remote control.
  void Consume(AmqpLink* link);
  /// True when `delivery` came from the pidbox queue.
  bool Owns(const AmqpDelivery& delivery) const {
    return !tag_.empty() && delivery.consumer_tag == tag_;
  }
  /// One command: the reply published on `link` when one is asked for, and
  /// the effects to carry out; nullopt when the command is malformed or
  /// addressed to other nodes. `snapshot` is taken only when needed.
  std::optional<ControlEffects> Handle(const AmqpDelivery& delivery,
                                       const std::function<WorkerSnapshot()>& snapshot,
                                       EventPublisher* events, AmqpLink* link);

 private:
  std::string nodename_;
  DecodeLimits limits_;
  Serializer serializer_;
  std::string tag_;
};

/// What remote control's commands report about a worker is taken from.
struct SnapshotSources {
  const WorkerSettings* settings = nullptr;
  const WorkerParts* parts = nullptr;
  const Consumers* consumers = nullptr;
  const RevokedSet* revoked = nullptr;
  EventPublisher* events = nullptr;
  const AmqpUrl* url = nullptr;
  std::chrono::steady_clock::time_point started;
  uint16_t prefetch = 0;
  /// The autoscale range now (pool_grow, pool_shrink and autoscale move it
  /// from the settings'); none without --autoscale.
  std::optional<AutoscaleRange> autoscale;
};

/// The worker as remote control shows it, now.
WorkerSnapshot TakeSnapshot(const SnapshotSources& in);

}  // namespace verdi
