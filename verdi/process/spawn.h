// Starting a job's command: a child born inside the job's cgroup (no instant
// outside it in which a fork could escape), leading its own session, with
// its stdio set, every other descriptor closed, signals back to their
// defaults, and killed by the kernel if the thread supervising it dies.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/status.h"

namespace verdi {

struct SpawnRequest {
  /// The file to execute (a path as seen from `dir`), and its argv and
  /// environment ("KEY=value" each).
  std::string program;
  std::vector<std::string> argv, env;
  /// The child's cwd.
  std::string dir;
  /// Become the child's stdout and stderr; stdin is /dev/null.
  int out_fd = -1, err_fd = -1;
  /// An open cgroup v2 directory the child is created in, or -1.
  int cgroup_fd = -1;
};

/// Starts the child. Returns an error when the system could not make a
/// process; otherwise *exec_error is 0 (the child runs, *pid is set) or the
/// errno of the failed execve (the child is reaped already). *in_cgroup
/// tells whether the child was born in `cgroup_fd` (kernels before 5.7
/// cannot; the caller then moves it).
Status SpawnChild(const SpawnRequest& request, pid_t* pid, int* exec_error, bool* in_cgroup);

}  // namespace verdi
