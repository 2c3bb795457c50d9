// `verdi run_job JOB.json`: runs one job in stand-alone mode, without broker
// or Redis, and exits with the job's status.

#include <unistd.h>

#include <fmt/format.h>

#include "base/log.h"
#include "verdi/cli/commands.h"
#include "verdi/cli/log_flags.h"
#include "verdi/cli/pipeline_flags.h"
#include "verdi/job/host_facts.h"
#include "verdi/job/pipeline.h"
#include "verdi/process/interrupts.h"

namespace verdi {
namespace {

constexpr int kInvalidInputExit = 2;

struct RunJobOptions {
  std::string job_file;
  PipelineFlags pipeline;
  LogFlags log;
};

// The exit code that reports the job's status to a shell.
int ExitCodeFor(const JobOutcome& outcome) {
  if (outcome.completed()) return 0;
  int code = outcome.exit_code;
  if (code < 0) return 128 + (-code & 0x7f);  // killed by signal N: 128+N, as shells say
  if (code == 0 || code > 255) return 1;
  return code;
}

int RunJob(const RunJobOptions& options) {
  // Before anything else, so a signal during set-up is not lost either.
  SignalInterrupts interrupts;
  UseLogFlags(options.log);

  PipelineSettings settings = MakePipelineSettings(
      options.pipeline, fmt::format("run_job@{} pid {}", GetHostFacts().hostname, getpid()));

  std::unique_ptr<StatusReporter> reporter;
  // Stand-alone: no watch for late writes (the process ends with the job).
  Status st =
      MakeStatusReporter(options.pipeline, settings.owner, std::chrono::milliseconds(0), &reporter);
  settings.observer = reporter.get();
  Json payload;
  if (st.ok()) st = ReadJsonFile(options.job_file, &payload);
  PreparedJob prepared;
  if (st.ok())
    st = PrepareJob(std::move(payload), settings, &prepared).WithPrefix(options.job_file);
  if (!st.ok()) {
    LogFatal("verdi run_job: " + st.message());
    return kInvalidInputExit;
  }

  ScopedLogContext context(prepared.job.task_id, prepared.job.job_id);
  JobOutcome outcome = RunPreparedJob(&prepared, settings, &interrupts);
  int exit_code = ExitCodeFor(outcome);
  if (reporter && !reporter->sink()->Flush(std::chrono::seconds(10)))
    LogError("statuses not delivered to Redis within 10 s: they are lost");
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
  AddPipelineFlags(cmd, &options->pipeline);
  AddLogLevelFlag(cmd, &options->log);
  AddLogFormatFlag(cmd, &options->log);
  cmd->callback([options, exit_code] { *exit_code = RunJob(*options); });
}

}  // namespace verdi
