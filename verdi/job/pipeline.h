// The path of one job, from a validated payload to a closed-out work
// directory (DESIGN.md, "One job, start to end"). Stand-alone mode runs it
// as is; the worker wraps it between a delivery and an ack.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/machine.h"
#include "jobspec/job.h"
#include "jobspec/worker_config.h"
#include "localize/fetch.h"
#include "verdi/container/run_argv.h"
#include "verdi/job/job_dedup.h"
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
  std::string triage_version = "v3.3.2";            // the version of triage products
  std::string triage_partition_format;              // TRIAGE_PARTITION_FORMAT
  std::optional<std::string> webdav_url;            // default http://<public ip>:<port>
  std::optional<std::string> webdav_port;           // default 8085
  /// Who runs jobs: written on line 2 of `.running`.
  std::string owner;
  /// Between the SIGTERM of a soft limit or stop request and the SIGKILL.
  std::chrono::milliseconds kill_grace{5000};
  ScrubOptions scrub;
  /// How jobs with a container_image_name are run.
  ContainerSettings containers;
  /// How inputs are downloaded (parallelism, tries, timeouts, TLS, S3
  /// profiles); the callbacks are set by the pipeline.
  localize::FetchOptions fetch;
  /// The environment the command inherits, "KEY=value" each.
  std::vector<std::string> base_env;
  /// Told of job-started and of the final status; may be null.
  JobObserver* observer = nullptr;
  /// HySDS's worker-side dedup of jobs with job_info.dedup (JOBS_ES_URL);
  /// null: not checked.
  std::shared_ptr<JobDedup> dedup;
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
  std::string status;  // job-completed, job-failed, job-terminated, ...
  int exit_code = 0;   // job_info.status: the command's, forced to 1 on failure
  std::string error;   // empty on success
  int signum = 0;      // the signal that stopped it, if one did
  /// job-deduped: the duplicate's id and HySDS's message about it.
  std::string dedup_job, dedup_msg;
  fs::path job_dir;  // empty when no directory was created
  /// The system refused what the job needed (work root, job files, a
  /// process): an IOError, not the job's own failure.
  bool infrastructure_error = false;
  bool completed() const { return error.empty(); }
};

/// Validates the payload (named "job" in errors), loads the worker config
/// (or builds it from params._command) and resolves the command's argv.
/// Returns Invalid, naming the bad field, for anything wrong with the input.
Status PrepareJob(Json payload, const PipelineSettings& settings, PreparedJob* prepared);

/// Runs a prepared job to the end: free space, work dir with `.running`,
/// `_context.json`, `_job.json`, `_run.sh`, the supervised command, then
/// close-out (`_job.json` with the final job_info, `.done`) on every path.
/// A failure is an outcome, never an exception. `interrupts` may be null.
JobOutcome RunPreparedJob(PreparedJob* prepared, const PipelineSettings& settings,
                          Interrupts* interrupts);

}  // namespace verdi
