// Task groups (icij-worker, seed 002): a file maps group names to queues, and
// a worker started with --group NAME consumes that group's queues.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace verdi {

/// Group name → its queues, in the file's order.
using TaskGroups = std::map<std::string, std::vector<std::string>>;

/// Reads a JSON object {"gpu": ["gpu-jobs", "gpu-long"], "cpu": "cpu-jobs"}:
/// each group's queues as a list of names or a comma-separated string.
/// Errors name the file and the group.
Status ReadTaskGroups(const std::string& path, TaskGroups* groups);

/// The queues of `group`; Invalid naming the file and the groups it has when
/// there is no such group, or when it has no queue.
Status GroupQueues(const TaskGroups& groups, const std::string& group, const std::string& path,
                   std::vector<std::string>* queues);

}  // namespace verdi
