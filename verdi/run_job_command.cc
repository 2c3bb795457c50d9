// `verdi run_job JOB.json`: runs one job in stand-alone mode, without broker
// or Redis, and exits with the job's status.

#include <unistd.h>

#include <fmt/format.h>

#include "verdi/commands.h"
#include "verdi/host.h"
#include "verdi/interrupts.h"
#include "verdi/job_pipeline.h"
#include "verdi/log.h"

extern char** environ;

namespace verdi {
namespace {

constexpr int kInvalidInputExit = 2;

struct RunJobOptions {
  std::string job_file;
  std::string root_work_dir, worker_config, datasets_config, webdav_url, webdav_port;
  double kill_grace_seconds = 5;
  bool evict_cache = false;
};

// The exit code that reports the job's status to a shell.
int ExitCodeFor(const JobOutcome& outcome) {
  if (outcome.completed()) return 0;
  int code = outcome.exit_code;
  if (code < 0) return 128 + (-code & 0x7f);  // killed by signal N: 128+N, as shells say
  if (code == 0 || code > 255) return 1;
  return code;
}

std::optional<std::string> Given(const std::string& value) {
  return value.empty() ? std::nullopt : std::optional<std::string>(value);
}

int RunJob(const RunJobOptions& options) {
  // Before anything else, so a signal during set-up is not lost either.
  SignalInterrupts interrupts;

  PipelineSettings settings;
  if (!options.root_work_dir.empty()) settings.root_work_dir = options.root_work_dir;
  settings.worker_config_file = Given(options.worker_config);
  settings.datasets_config_file = Given(options.datasets_config);
  settings.webdav_url = Given(options.webdav_url);
  settings.webdav_port = Given(options.webdav_port);
  settings.kill_grace = std::chrono::milliseconds(static_cast<int64_t>(options.kill_grace_seconds * 1000));
  settings.scrub.evict_cache = options.evict_cache;
  settings.owner = fmt::format("run_job@{} pid {}", GetHostFacts().hostname, getpid());
  for (char** e = environ; *e != nullptr; ++e) settings.base_env.emplace_back(*e);

  Json payload;
  Status st = ReadJsonFile(options.job_file, &payload);
  PreparedJob prepared;
  if (st.ok()) st = PrepareJob(std::move(payload), settings, &prepared).WithPrefix(options.job_file);
  if (!st.ok()) {
    fmt::print(stderr, "verdi run_job: {}\n", st.message());
    return kInvalidInputExit;
  }

  JobOutcome outcome = RunPreparedJob(&prepared, settings, &interrupts);
  int exit_code = ExitCodeFor(outcome);
  if (outcome.job_dir.empty()) {
    fmt::print(stderr, "verdi run_job: {}: {}\n", prepared.job.job_id, outcome.error);
  } else {
    fmt::print("work dir: {}\n", outcome.job_dir.string());
  }
  if (outcome.completed())
    fmt::print("{} {}: exit code 0\n", prepared.job.job_id, outcome.status);
  else
    fmt::print("{} {}: {} (exit code {})\n", prepared.job.job_id, outcome.status, outcome.error,
               outcome.exit_code);
  return exit_code;
}

}  // namespace

void AddRunJobCommand(CLI::App* app, int* exit_code) {
  auto options = std::make_shared<RunJobOptions>();
  CLI::App* cmd = app->add_subcommand(
      "run_job",
      "Run one job stand-alone, with no broker or Redis: work dir, files, command, close-out.\n"
      "Exit code: 0 when the job completed; else the command's exit code (128+N when killed\n"
      "by signal N; 1 when it failed otherwise); 2 when JOB.json is invalid (nothing is run\n"
      "and nothing is created).");
  cmd->add_option("JOB.json", options->job_file, "The run_job payload, as HySDS queues it")
      ->required();
  cmd->add_option("--root-work-dir", options->root_work_dir,
                  "Root of jobs/, tasks/, cache/ (default: the worker config's, else /data/work)")
      ->envname("HYSDS_ROOT_WORK_DIR");
  cmd->add_option("--worker-config", options->worker_config,
                  "Worker config with the command of each job type; without one, the job's\n"
                  "params._command is run")
      ->envname("HYSDS_WORKER_CFG");
  cmd->add_option("--datasets-config", options->datasets_config,
                  "datasets.json, recorded in job_info.datasets_cfg_file")
      ->envname("HYSDS_DATASETS_CFG");
  cmd->add_option("--webdav-url", options->webdav_url,
                  "Base of job_info.job_url (default http://<ip>:<webdav port>)")
      ->envname("HYSDS_WEBDAV_URL");
  cmd->add_option("--webdav-port", options->webdav_port, "Port for the default job URL (8085)")
      ->envname("HYSDS_WEBDAV_PORT");
  cmd->add_option("--kill-grace", options->kill_grace_seconds,
                  "Seconds between SIGTERM and SIGKILL at the soft time limit or on a signal")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_flag("--evict-cache", options->evict_cache,
                "When the disk is short, also evict input-cache entries, oldest first")
      ->envname("EVICT_CACHE");
  cmd->callback([options, exit_code] { *exit_code = RunJob(*options); });
}

}  // namespace verdi
