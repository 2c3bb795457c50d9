// The step after a job's command: the datasets
// of a command that succeeded are published, a failed job is triaged.
#pragma once

#include <filesystem>

#include "base/status.h"
#include "jobspec/json_field.h"

namespace verdi {

struct PipelineSettings;

/// How the command ended, as far as publishing cares.
enum class CommandResult {
  kSucceeded,  // exit code 0: publish its datasets
  kNotRun,     // not run (pid 0): nothing to publish or triage
  kFailed,     // triage
};

/// Publishes or triages the job in `job_dir` with the datasets config of
/// `settings` (nothing happens without one). `job` (the whole job document)
/// gets the publish metrics; `datasets` (an array) the documents of the
/// products published, the triage product's included. Returns the error
/// that fails the job: a publish failure (everything it published is
/// removed again). A triage failure is only logged, as the job has failed
/// already.
Status PublishOrTriage(const PipelineSettings& settings, const std::filesystem::path& job_dir,
                       const Json& context, CommandResult result, Json* job, Json* datasets);

}  // namespace verdi
