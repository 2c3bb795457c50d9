// The queues `verdi worker` declares and consumes, chosen as Celery chooses
// them: task_queues (kombu Queue objects) or the default queue, -Q to pick
// (queues it does not name created as Celery creates them), -X to leave out.
#pragma once

#include <string>
#include <vector>

#include "verdi/amqp/link.h"
#include "verdi/cli/worker_flags.h"

namespace verdi {

/// The queues of `flags`, each with its exchange, routing key and
/// arguments (x-max-priority from --max-priority / task_queue_max_priority
/// where a queue sets none, --queue-arg). `warnings` gets a line for each
/// Queue argument verdi does not use. Invalid, naming the option or
/// task_queues' entry, for what Celery would refuse.
Status MakeQueueSpecs(const WorkerFlags& flags, std::vector<QueueSpec>* queues,
                      std::vector<std::string>* warnings);

}  // namespace verdi
