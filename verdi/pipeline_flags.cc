#include "verdi/pipeline_flags.h"

extern char** environ;

namespace verdi {
namespace {

std::optional<std::string> Given(const std::string& value) {
  return value.empty() ? std::nullopt : std::optional<std::string>(value);
}

}  // namespace

void AddPipelineFlags(CLI::App* cmd, PipelineFlags* flags) {
  cmd->add_option("--root-work-dir", flags->root_work_dir,
                  "Root of jobs/, tasks/, cache/ (default: the worker config's, else /data/work)")
      ->envname("HYSDS_ROOT_WORK_DIR");
  cmd->add_option("--worker-config", flags->worker_config,
                  "Worker config with the command of each job type; without one, the job's\n"
                  "params._command is run")
      ->envname("HYSDS_WORKER_CFG");
  cmd->add_option("--datasets-config", flags->datasets_config,
                  "datasets.json, recorded in job_info.datasets_cfg_file")
      ->envname("HYSDS_DATASETS_CFG");
  cmd->add_option("--webdav-url", flags->webdav_url,
                  "Base of job_info.job_url (default http://<ip>:<webdav port>)")
      ->envname("HYSDS_WEBDAV_URL");
  cmd->add_option("--webdav-port", flags->webdav_port, "Port for the default job URL (8085)")
      ->envname("HYSDS_WEBDAV_PORT");
  cmd->add_option("--kill-grace", flags->kill_grace_seconds,
                  "Seconds between SIGTERM and SIGKILL at the soft time limit or on a stop")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--redis-job-status-url", flags->status_url,
                  "Redis for HySDS job statuses (job-started, job-completed, ...), as msgpack\n"
                  "documents on a list read by Logstash; none: statuses are only logged")
      ->envname("REDIS_JOB_STATUS_URL");
  cmd->add_option("--redis-job-status-key", flags->status_key, "The list of status documents")
      ->envname("REDIS_JOB_STATUS_KEY")
      ->capture_default_str();
  cmd->add_option("--redis-job-info-url", flags->info_url,
                  "Redis for job_info metrics documents (default: the status Redis)")
      ->envname("REDIS_JOB_INFO_URL");
  cmd->add_option("--redis-job-info-key", flags->info_key, "The list of job_info documents")
      ->envname("REDIS_JOB_INFO_KEY")
      ->capture_default_str();
  cmd->add_flag("--evict-cache", flags->evict_cache,
                "When the disk is short, also evict input-cache entries, oldest first")
      ->envname("EVICT_CACHE");
}

PipelineSettings MakePipelineSettings(const PipelineFlags& flags, std::string owner) {
  PipelineSettings settings;
  if (!flags.root_work_dir.empty()) settings.root_work_dir = flags.root_work_dir;
  settings.worker_config_file = Given(flags.worker_config);
  settings.datasets_config_file = Given(flags.datasets_config);
  settings.webdav_url = Given(flags.webdav_url);
  settings.webdav_port = Given(flags.webdav_port);
  settings.kill_grace =
      std::chrono::milliseconds(static_cast<int64_t>(flags.kill_grace_seconds * 1000));
  settings.scrub.evict_cache = flags.evict_cache;
  settings.owner = std::move(owner);
  for (char** e = environ; *e != nullptr; ++e) settings.base_env.emplace_back(*e);
  return settings;
}

Status MakeStatusReporter(const PipelineFlags& flags, std::string hostname,
                          std::unique_ptr<StatusReporter>* out) {
  out->reset();
  if (flags.status_url.empty()) return Status::OK();
  StatusSinkOptions options;
  options.status_url = flags.status_url;
  options.status_key = flags.status_key;
  options.info_url = flags.info_url;
  options.info_key = flags.info_key;
  std::unique_ptr<StatusSink> sink;
  VERDI_RETURN_IF_ERROR(StatusSink::Make(options, &sink).WithPrefix("--redis-job-status-url"));
  *out = std::make_unique<StatusReporter>(std::move(sink), std::move(hostname));
  return Status::OK();
}

}  // namespace verdi
