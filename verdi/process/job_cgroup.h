// A cgroup (v2) of its own for each job's processes, so that the whole job
// ends with it: a daemon the command started in another session, or any
// process that left the job's process group, is reached by `cgroup.kill`.
// Where no cgroup v2 hierarchy can be written (none mounted, no permission),
// one warning per process, and the process group is all there is.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

namespace verdi {

class JobCgroup {
 public:
  /// A new, empty cgroup below verdi's own; null when none can be made. The
  /// first call of a process also removes the empty cgroups that dead verdi
  /// processes left.
  static std::unique_ptr<JobCgroup> Create();
  /// Takes over the cgroup at `path` (made by this or an earlier process).
  explicit JobCgroup(std::string path);
  /// Kills what is left in it, then removes it.
  ~JobCgroup();

  /// Moves process `pid` into it; its later children are born there. False
  /// when the move failed (logged).
  bool Add(pid_t pid);
  /// SIGKILL to every process in it, then waits (up to 2 s) until it is
  /// empty.
  void Kill();
  const std::string& path() const { return path_; }
  /// The cgroup's directory, open (for a child to be born in it); -1 when
  /// it cannot be opened.
  int dir_fd() const { return dir_fd_; }

 private:
  std::string path_;
  int dir_fd_ = -1;
};

}  // namespace verdi
