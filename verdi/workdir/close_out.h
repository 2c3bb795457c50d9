// Closing out a job dir: the one way every job ends, whether the pipeline
// ran it to its end or a worker died under it (its container removed, its
// process group killed by the next life of that worker). The final job_info
// goes into `_job.json`, then `.done` is written: once it is there, the
// directory may be scrubbed.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "base/status.h"
#include "base/timestamp.h"
#include "jobspec/json_field.h"

namespace verdi {

/// How a job ended, as job_info records it.
struct JobEnd {
  std::string job_status;  // job-completed, job-failed, job-terminated, ...
  int exit_code = 0;       // job_info.status: forced to 1 when `error` is set
  std::string error;       // empty on success
  int signum = 0;          // the signal that stopped it, if one did
  /// When the job began, for job_info.duration; unset for an abandoned job
  /// (its duration stays what `_job.json` said).
  std::optional<WallClock::time_point> start;
  WallClock::time_point end;
  /// Links in the job dir are followed for metrics.job_dir_size only into
  /// here (the work root, with its input cache); empty: the job dir itself.
  std::filesystem::path size_within;
};

/// Writes `end` into `job`'s job_info (status, pid when missing,
/// metrics.job_dir_size, time_end, duration, job_status, error, signum),
/// then `dir/_job.json`, then `.done` (a directory the job made at one of
/// these names, or at `.running`, is removed first). Errors are logged; the
/// first one is returned, and `.done` is written whatever came before.
/// Called once no process of the job is left.
Status CloseOutJobDir(const std::filesystem::path& dir, const JobEnd& end, Json* job);

/// Told of each abandoned job once it is closed out, to report its
/// job-failed status; may be empty.
using AbandonedJobReport = std::function<void(const Json& job, const std::string& reason)>;

/// A job dir with `.running` that no live process will close: its owner's
/// access given back (base/dir_tree.h), `reason` appended to `_stderr.txt`,
/// the job read back from `_job.json` (a missing or unreadable one gives a
/// bare job), and closed out as job-failed.
/// `*job` is the job as closed out, to report its status.
Status CloseOutAbandonedJob(const std::filesystem::path& dir, const std::string& reason,
                            WallClock::time_point now, Json* job);

}  // namespace verdi
