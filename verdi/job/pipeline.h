// The path of one job, from a validated payload to a closed-out work
// directory (DESIGN.md, "One job, start to end"). Stand-alone mode runs it
// as is; the worker wraps it between a delivery and an ack.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/machine.h"
#include "jobspec/job.h"
#include "jobspec/worker_config.h"
#include "localize/fetch.h"
#include "verdi/container/run_argv.h"
#include "verdi/process/interrupts.h"
#include "verdi/workdir/scrub.h"

namespace verdi {

namespace fs = std::filesystem;

struct JobOutcome;

/// Told what a job goes through, to report it (HySDS statuses, metrics).
/// Called on the thread that runs the job.
class JobObserver {
 public:
  virtual ~JobObserver() = default;
  /// The job's files are written and its command is about to run:
  /// job-started, with the job as `_job.json` holds it.
  virtual void Started(const Json& job) = 0;
  /// The job is closed out (`.done` is written, when there is a directory):
  /// its final status.
  virtual void Finished(const Json& job, const JobOutcome& outcome) = 0;
};

/// What the worker (or `verdi run_job`) was configured with. Empty optionals
/// fall back to the worker config file, then to HySDS's defaults.
struct PipelineSettings {
  std::optional<fs::path> root_work_dir;            // default /data/work
  std::optional<std::string> worker_config_file;    // HYSDS_WORKER_CFG
  std::optional<std::string> datasets_config_file;  // HYSDS_DATASETS_CFG
  std::string grq_update_url_bulk;                  // GRQ_UPDATE_URL_BULK: none when empty
  int backoff_max_tries = 10;                       // BACKOFF_MAX_TRIES: uploads, indexing
  std::optional<std::string> webdav_url;            // default http://<public ip>:<port>
  std::optional<std::string> webdav_port;           // default 8085
  /// Who runs jobs: written on line 2 of `.running`.
  std::string owner;
  /// Between the SIGTERM of a soft limit or stop request and the SIGKILL.
  std::chrono::milliseconds kill_grace{5000};
  /// The limits of a job whose job_info and job-spec set none (Celery's
  /// task_soft_time_limit and task_time_limit), in seconds.
  std::optional<int64_t> default_soft_time_limit, default_time_limit;
  ScrubOptions scrub;
  /// How jobs with a container_image_name are run.
  ContainerSettings containers;
  /// How inputs are downloaded (parallelism, tries, timeouts, TLS, S3
  /// profiles); the callbacks are set by the pipeline.
  localize::FetchOptions fetch;
  /// The environment the command inherits, "KEY=value" each.
  std::vector<std::string> base_env;
  /// The interpreter of the job-spec's Python pre- and post-processors
  /// (python_processor.h), looked up on base_env's PATH.
  std::string python = "python3";
  /// The modules (and their submodules) Python processors may come from;
  /// empty: any, as in HySDS.
  std::vector<std::string> processor_modules;
  /// Told of job-started and of the final status; may be null.
  JobObserver* observer = nullptr;
  /// Whether task `task_id` was revoked: a job stopped by a stop request
  /// then ends as job-revoked ("Job was revoked with signal N."), as HySDS
  /// names it. May be empty (stand-alone: a stop request is a signal).
  std::function<bool(const std::string& task_id)> revoked;
  Machine* machine = Machine::Default();
};

/// A job checked and resolved, ready to run: everything that can be wrong
/// with the input has been found by now, and nothing has been written.
struct PreparedJob {
  Job job;
  fs::path root_work_dir;
  std::string webdav_url;
  CommandConfig command;
  std::vector<std::string> argv;
  std::optional<uint64_t> disk_usage_bytes;
};

/// How a job ended.
struct JobOutcome {
  std::string status;  // job-completed, job-failed, job-revoked, job-terminated, ...
  int exit_code = 0;   // job_info.status: the command's, forced to 1 on failure
  std::string error;   // empty on success
  int signum = 0;      // the signal that stopped it, if one did
  fs::path job_dir;    // empty when no directory was created
  /// The system refused what the job needed (work root, job files, a
  /// process): an IOError, not the job's own failure.
  bool infrastructure_error = false;
  /// The Python traceback of a processor's exception that failed the job.
  std::string traceback;
  /// job-started was reported: the job got as far as HySDS's run_job main
  /// block, whose end queues the job's user rules.
  bool started = false;
  /// The documents of the products it published (its triage product's
  /// included), in order: each becomes a `dataset:<ipath>` job for the
  /// dataset trigger rules.
  Json datasets = Json::array();
  bool completed() const { return error.empty(); }
};

/// Validates the payload (named "job" in errors), loads the worker config
/// (or builds it from params._command) and resolves the command's argv.
/// Returns Invalid, naming the bad field, for anything wrong with the input.
Status PrepareJob(Json payload, const PipelineSettings& settings, PreparedJob* prepared);

/// Runs a prepared job to the end: free space, work dir with `.running`,
/// `_context.json`, `_job.json`, `_run.sh`, the pre-processors (inputs
/// localized, ...), the supervised command, the post-processors (publish,
/// triage, ...), then close-out (`_job.json` with the final job_info,
/// `.done`) on every path.
/// A failure is an outcome, never an exception. `interrupts` may be null.
JobOutcome RunPreparedJob(PreparedJob* prepared, const PipelineSettings& settings,
                          Interrupts* interrupts);

}  // namespace verdi
