// The command-line flags of `verdi worker`'s lifecycle options: self-exit
// rules, the work root's bound, pass-down termination, echo, task groups,
// archives.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "verdi/worker/lifecycle.h"

namespace verdi {

struct LifecycleFlags {
  bool exit_when_idle = false;
  double idle_seconds = 0;
  int64_t exit_after_num_runs = 0;
  bool exit_on_exception = false;
  int reconnect_attempts = 5;
  std::string max_work_dir_size;
  bool delete_work_dir_on_exit = false;
  bool keep_failed_work_dirs = false;
  bool pass_down_termination = false;
  bool echo = false;
  std::string group, groups_file;
  std::string archive_url, archive_on = "failure";
};

/// The config-file keys of those flags, for worker_command.cc's table:
/// {key, flag}.
struct LifecycleConfigKey {
  const char* key;
  const char* flag;
};
extern const std::vector<LifecycleConfigKey> kLifecycleConfigKeys;

/// Adds --exit-when-idle, --idle-seconds, --exit-after-num-runs,
/// --exit-on-exception, --reconnect-attempts, --max-work-dir-size,
/// --delete-work-dir-on-exit, --keep-failed-work-dirs,
/// --pass-down-termination, --echo, --group, --task-groups,
/// --archive-work-dir and --archive-on.
void AddLifecycleFlags(CLI::App* cmd, LifecycleFlags* flags);

/// The settings those flags give. With --group, the group's queues (from
/// --task-groups) are added to `*queues`; `queues_given` says whether -Q was
/// on the command line (else --group replaces the default queue). Errors
/// name the flag.
Status MakeLifecycleSettings(const LifecycleFlags& flags, bool queues_given,
                             std::vector<std::string>* queues, LifecycleSettings* settings);

}  // namespace verdi
