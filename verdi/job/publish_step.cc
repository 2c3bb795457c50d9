#include "verdi/job/publish_step.h"

#include <fmt/format.h>

#include "base/files.h"
#include "base/log.h"
#include "jobspec/uuid.h"
#include "publish/publish.h"
#include "verdi/job/host_facts.h"
#include "verdi/job/pipeline.h"
#include "verdi/process/supervisor.h"

namespace verdi {
namespace fs = std::filesystem;

namespace {

// Extractors run like job commands (own process group, killed at the
// timeout, nothing left behind), in a scratch dir of the job.
publish::ProcessRunner ExtractorRunner(const PipelineSettings& settings, const fs::path& job_dir) {
  return [&settings, job_dir](const std::vector<std::string>& argv, std::chrono::seconds timeout,
                              publish::ProcessOutput* output) -> Status {
    fs::path scratch = job_dir / (".extractor-" + NewUuid4());
    std::error_code ec;
    fs::create_directories(scratch, ec);
    if (ec) return Status::IOError("creating " + scratch.string(), ec.value());
    RunRequest request;
    request.argv = argv;
    request.env = settings.base_env;
    request.dir = scratch;
    request.kill_grace = settings.kill_grace;
    request.hard_deadline = SteadyClock::now() + timeout;
    RunResult result;
    Status st = RunSupervised(request, nullptr, &result);
    if (st.ok() && result.ending == Ending::kNotStarted) st = Status::Failed(result.error);
    if (st.ok()) {
      output->exit_code = result.exit_code;
      output->timed_out = result.ending == Ending::kHardLimit;
      (void)ReadFileToString((scratch / "_stdout.txt").string(), &output->out);
      (void)ReadFileToString((scratch / "_stderr.txt").string(), &output->err);
    }
    fs::remove_all(scratch, ec);
    return st;
  };
}

}  // namespace

Status PublishOrTriage(const PipelineSettings& settings, const fs::path& job_dir,
                       const Json& context, CommandResult result, Json* job, Json* datasets) {
  if (result == CommandResult::kNotRun) return Status::OK();
  std::string job_id = job->value("job_id", "");
  if (!settings.datasets_config_file) {
    LogInfo("job {}: no datasets config (HYSDS_DATASETS_CFG): nothing published", job_id);
    return Status::OK();
  }
  publish::PublishSettings ps;
  ps.datasets_config_file = *settings.datasets_config_file;
  ps.grq_update_url_bulk = settings.grq_update_url_bulk;
  ps.index_tries = settings.backoff_max_tries;
  ps.upload.tries = settings.backoff_max_tries;
  ps.upload.transfer = settings.fetch.transfer;  // the same TLS, timeouts and S3 credentials
  ps.run = ExtractorRunner(settings, job_dir);
  ps.hostname = GetHostFacts().fqdn;
  ps.log = [&job_id](const std::string& line) { LogInfo("job {}: {}", job_id, line); };
  ps.published = [datasets](const Json& doc) { datasets->push_back(doc); };
  if (result == CommandResult::kSucceeded)
    return publish::PublishDatasets(ps, job_dir, context, job).WithPrefix("publishing");
  Status st = publish::TriageJob(ps, job_dir, context, job);
  if (!st.ok()) LogWarning("job {}: {}", job_id, st.message());
  return Status::OK();
}

}  // namespace verdi
