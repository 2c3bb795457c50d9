// Running the job's command: one child in its own session and process group,
// its output straight into the job directory, its limits and stop requests
// enforced, and its exit recorded the way HySDS's monitored runner does.
#pragma once

#include <sys/types.h>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/timestamp.h"
#include "verdi/process/interrupts.h"

namespace verdi {

using SteadyClock = std::chrono::steady_clock;

struct RunRequest {
  /// argv[0] is looked up on PATH when it has no slash; no shell is involved.
  std::vector<std::string> argv;
  /// The child's whole environment, "KEY=value" each.
  std::vector<std::string> env;
  /// The job directory: the child's cwd, and where the files below go.
  std::filesystem::path dir;
  /// Soft limit: SIGTERM to the group, then SIGKILL after `kill_grace`.
  std::optional<SteadyClock::time_point> soft_deadline;
  /// Hard limit: SIGKILL to the group.
  std::optional<SteadyClock::time_point> hard_deadline;
  /// Time between a SIGTERM (soft limit, stop request) and the SIGKILL.
  std::chrono::milliseconds kill_grace{5000};
  /// The child's stdin, read from its current offset (e.g. a memfd holding
  /// the input); -1: /dev/null. Stays the caller's to close.
  int stdin_fd = -1;
  /// Run (with verdi's environment) should verdi die while the command
  /// runs, after the job's processes are killed: e.g. its container removed.
  std::vector<std::string> orphan_cleanup;
};

/// Why the command ended.
enum class Ending {
  kExited,       // it exited or died on its own
  kNotStarted,   // it could not be executed (missing, not executable)
  kSoftLimit,    // the soft time limit fired
  kHardLimit,    // the hard time limit fired
  kInterrupted,  // a stop request (signal to verdi, revoke) ended it
};

struct RunResult {
  Ending ending = Ending::kExited;
  /// As written to _exit_code: the exit status, minus the signal number when
  /// killed by a signal, 1 when it could not be executed (HySDS's runner).
  int exit_code = 0;
  /// The child's pid (also in _pid); 0 when it never ran.
  pid_t pid = 0;
  /// The stop request's signal number when ending == kInterrupted.
  int signal = 0;
  /// Why it could not be executed, when ending == kNotStarted.
  std::string error;
  WallClock::time_point start, end;
};

/// Runs `request.argv` and waits for it. In `request.dir` it writes:
///   _stdout.txt, _stderr.txt  the child's stdout and stderr, as they come
///                             (the files are its stdout and stderr);
///   _pid                      the child's pid, written to .pid_hold opened
///                             before the child starts, renamed _pid at once
///                             (or, when the child took the dir's access away
///                             first, once it ended); not written when it
///                             never ran;
///   .exit_code_hold           "255" while it runs, then renamed _exit_code
///                             holding RunResult::exit_code.
/// stdin is request.stdin_fd, else /dev/null. The child leads its own session and process group,
/// is born in a cgroup of its own (job_cgroup.h) where one can be made, and
/// is killed by the kernel should the calling thread die; every signal verdi
/// sends goes to the whole group. When the child exits, whatever is left of
/// its group and cgroup is killed, so no stray process outlives the job; a
/// watchdog (orphan_guard.h) does the same should verdi itself die. A stop request from
/// `interrupts` (may be null) forwards its signal to the group, then SIGKILL after kill_grace; a
/// second request kills at once. When the command cannot be executed, the reason is appended to
/// _stderr.txt. Once no process of the job is left, whatever access it took
/// from the dir's owner is given back (base/dir_tree.h, through the dir's
/// descriptor taken before it ran), and verdi's names replace whatever the
/// job put there. Returns an error only when the supervision itself failed
/// (files not writable, fork failed).
Status RunSupervised(const RunRequest& request, Interrupts* interrupts, RunResult* result);

}  // namespace verdi
