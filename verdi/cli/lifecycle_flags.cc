#include "verdi/cli/lifecycle_flags.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "jobspec/disk_usage.h"
#include "verdi/worker/task_groups.h"

namespace verdi {

const std::vector<LifecycleConfigKey> kLifecycleConfigKeys = {
    {"worker_exit_when_idle", "--exit-when-idle"},
    {"worker_idle_seconds", "--idle-seconds"},
    {"worker_exit_after_num_runs", "--exit-after-num-runs"},
    {"worker_exit_on_exception", "--exit-on-exception"},
    {"worker_max_work_dir_size", "--max-work-dir-size"},
    {"worker_delete_work_dir_on_exit", "--delete-work-dir-on-exit"},
    {"worker_keep_failed_work_dirs", "--keep-failed-work-dirs"},
    {"worker_pass_down_termination", "--pass-down-termination"},
    {"worker_group", "--group"},
    {"TASK_GROUPS_CFG", "--task-groups"},
    {"worker_archive_work_dir", "--archive-work-dir"},
    {"worker_archive_on", "--archive-on"},
};

void AddLifecycleFlags(CLI::App* cmd, LifecycleFlags* flags) {
  cmd->add_flag("--exit-when-idle", flags->exit_when_idle,
                "Exit (code 0) after --idle-seconds with no job, for autoscaled workers")
      ->envname("VERDI_EXIT_WHEN_IDLE");
  cmd->add_option("--idle-seconds", flags->idle_seconds,
                  "With --exit-when-idle: seconds with no job queued, running or held")
      ->envname("VERDI_IDLE_SECONDS")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  cmd->add_option("--exit-after-num-runs", flags->exit_after_num_runs,
                  "Take this many jobs, then no more; exit (code 0) once they end; 0: no limit")
      ->envname("VERDI_EXIT_AFTER_NUM_RUNS")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 53))
      ->capture_default_str();
  cmd->add_flag("--exit-on-exception", flags->exit_on_exception,
                "Exit (code 4) after an infrastructure error, once running jobs end: the work\n"
                "root or a job's files refused, the broker gone for --reconnect-attempts tries,\n"
                "results or statuses lost after Redis's retries. A failing job is not one")
      ->envname("VERDI_EXIT_ON_EXCEPTION");
  cmd->add_option("--reconnect-attempts", flags->reconnect_attempts,
                  "With --exit-on-exception: failed broker connections in a row that make the\n"
                  "broker gone")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--max-work-dir-size", flags->max_work_dir_size,
                  "Keep the work root under SIZE (e.g. 10GB, or bytes): after each job, remove\n"
                  "finished task and job dirs oldest first (with --evict-cache, then cache\n"
                  "entries), on top of the free-space rule")
      ->envname("VERDI_MAX_WORK_DIR_SIZE");
  cmd->add_flag("--keep-failed-work-dirs", flags->keep_failed_work_dirs,
                "--max-work-dir-size removes every successful job dir before a failed one")
      ->envname("VERDI_KEEP_FAILED_WORK_DIRS");
  cmd->add_flag("--delete-work-dir-on-exit", flags->delete_work_dir_on_exit,
                "At exit, remove jobs/, tasks/, cache/, workers/ of the work root (and the root\n"
                "when then empty), for ephemeral workers; not while another worker's job is open")
      ->envname("VERDI_DELETE_WORK_DIR_ON_EXIT");
  cmd->add_flag("--pass-down-termination", flags->pass_down_termination,
                "On SIGTERM/SIGINT stop the running jobs at once and requeue them\n"
                "(instead of a warm shutdown that lets them finish)")
      ->envname("VERDI_PASS_DOWN_TERMINATION");
  cmd->add_flag("--echo", flags->echo,
                "Debugging: log every message received (headers, decoded body, delivery info)\n"
                "and ack it; run nothing");
  cmd->add_option("--group", flags->group,
                  "Consume the queues of this task group (see --task-groups); its jobs report\n"
                  "it in job_info.worker_group of their statuses")
      ->envname("VERDI_GROUP");
  cmd->add_option("--task-groups", flags->groups_file,
                  "JSON file mapping task groups to queues: {\"gpu\": [\"gpu-jobs\"], ...}")
      ->envname("VERDI_TASK_GROUPS");
  cmd->add_option("--archive-work-dir", flags->archive_url,
                  "After a job's close-out, put a .tar.gz of its directory at\n"
                  "URL/<dir>-<task id>.tar.gz (file://, WebDAV, s3://) and record where in\n"
                  "job_info.work_dir_archive_url of its final status")
      ->envname("VERDI_ARCHIVE_WORK_DIR");
  cmd->add_option("--archive-on", flags->archive_on,
                  "Which jobs --archive-work-dir archives: failure or always")
      ->envname("VERDI_ARCHIVE_ON")
      ->check(CLI::IsMember({"failure", "always"}))
      ->capture_default_str();
}

Status MakeLifecycleSettings(const LifecycleFlags& flags, bool queues_given,
                             std::vector<std::string>* queues, LifecycleSettings* settings) {
  LifecycleSettings s;
  if (flags.exit_when_idle)
    s.exit.idle = std::chrono::milliseconds(static_cast<int64_t>(flags.idle_seconds * 1000));
  s.exit.max_runs = flags.exit_after_num_runs;
  s.exit.exit_on_exception = flags.exit_on_exception;
  s.exit.reconnect_attempts = flags.reconnect_attempts;
  if (!flags.max_work_dir_size.empty()) {
    const std::string& text = flags.max_work_dir_size;
    uint64_t bytes = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bytes);
    if (ec != std::errc() || end != text.data() + text.size())
      VERDI_RETURN_IF_ERROR(ParseDiskUsage(text, "--max-work-dir-size", &bytes));
    s.max_work_dir_bytes = bytes;
  }
  s.keep_failed_work_dirs = flags.keep_failed_work_dirs;
  s.delete_work_dir_on_exit = flags.delete_work_dir_on_exit;
  s.pass_down_termination = flags.pass_down_termination;
  s.echo = flags.echo;
  s.group = flags.group;
  s.archive.url = flags.archive_url;
  s.archive.always = flags.archive_on == "always";
  if (!flags.group.empty()) {
    if (flags.groups_file.empty())
      return Status::Invalid("--group " + flags.group + ": needs --task-groups FILE");
    TaskGroups groups;
    VERDI_RETURN_IF_ERROR(ReadTaskGroups(flags.groups_file, &groups).WithPrefix("--task-groups"));
    std::vector<std::string> group_queues;
    VERDI_RETURN_IF_ERROR(GroupQueues(groups, flags.group, flags.groups_file, &group_queues));
    if (!queues_given) queues->clear();
    for (const auto& q : group_queues)
      if (std::find(queues->begin(), queues->end(), q) == queues->end()) queues->push_back(q);
  }
  *settings = std::move(s);
  return Status::OK();
}

}  // namespace verdi
