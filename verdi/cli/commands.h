// The subcommands of the `verdi` executable. Each adds itself to the app and,
// when it runs, stores the process's exit code in `*exit_code`.
#pragma once

#include <CLI/CLI.hpp>

#include "verdi/cli/celery_global_flags.h"

namespace verdi {

/// `verdi manager`: keep between min and max workers from queue depth.
void AddManagerCommand(CLI::App* app, int* exit_code);

/// `verdi monitor`: a terminal view of the workers from Celery events.
void AddMonitorCommand(CLI::App* app, int* exit_code);

/// `verdi run_job JOB.json`: one job, stand-alone, no broker.
void AddRunJobCommand(CLI::App* app, int* exit_code);

/// `verdi submit JOBSPEC`: resolve a job-spec and params, publish the job.
void AddSubmitCommand(CLI::App* app, int* exit_code);

/// `verdi validate FILE...`: report every problem of job-specs, hysds-ios,
/// datasets.json files, jobs and worker configs.
void AddValidateCommand(CLI::App* app, int* exit_code);

/// `verdi worker`: the Celery worker; `globals` are Celery's options given
/// before the subcommand.
void AddWorkerCommand(CLI::App* app, const CeleryGlobalFlags* globals, int* exit_code);

}  // namespace verdi
