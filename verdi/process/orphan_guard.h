// Nothing of a job runs on without its supervisor: a small watchdog process
// per running job that, should the supervising thread die (verdi killed
// with SIGKILL, or crashed), kills the job's cgroup and process group at
// once and runs the job's clean-up command (its container removed). The
// broker then redelivers the task to a worker that runs it alone.
#pragma once

#include <sys/types.h>

#include <cstddef>

#include <memory>
#include <string>
#include <vector>

namespace verdi {

class OrphanGuard {
 public:
  /// Starts the watchdog for the job whose process group is `group` and whose
  /// cgroup is at `cgroup_path` (empty: none). `cleanup` (may be empty) is a
  /// command run after the kill, with verdi's environment; argv[0] without a
  /// slash is looked up on verdi's PATH. Null (logged) when no process could
  /// be made.
  static std::unique_ptr<OrphanGuard> Start(pid_t group, const std::string& cgroup_path,
                                            const std::vector<std::string>& cleanup);
  /// The job ended under supervision: the watchdog is stopped and reaped.
  ~OrphanGuard();

  OrphanGuard(const OrphanGuard&) = delete;
  OrphanGuard& operator=(const OrphanGuard&) = delete;
  pid_t pid() const { return pid_; }

 private:
  OrphanGuard(pid_t pid, void* map, size_t map_size) : pid_(pid), map_(map), map_size_(map_size) {}
  pid_t pid_;
  void* map_;  // the watchdog's stack and all it reads
  size_t map_size_;
};

}  // namespace verdi
