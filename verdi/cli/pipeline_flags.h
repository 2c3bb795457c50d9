// The command-line flags that configure the job pipeline, shared by
// `verdi run_job` and `verdi worker`.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "verdi/job/pipeline.h"
#include "verdi/job/status_reporter.h"

namespace verdi {

struct PipelineFlags {
  std::string root_work_dir, worker_config, datasets_config, webdav_url, webdav_port;
  std::string grq_update_url_bulk;
  int backoff_max_tries = 10;
  std::string triage_version = "v3.3.2", triage_partition_format;
  std::string jobs_es_url;
  bool jobs_aws_es = false;
  std::string status_url, status_key = "logstash", info_url, info_key = "logstash";
  double kill_grace_seconds = 5;
  bool evict_cache = false;
  std::string container_engine = "docker", container_registry;
  std::vector<std::string> container_engine_args;
  std::string mount_blacklist = "/dev /etc /lib /proc /usr /var";
  std::string container_mount_layout = "job", container_allowed_options;
  bool cache_read_only = true;
  std::string image_cache_size = "10GB";
  std::string processor_python = "python3", processor_modules;
  // Localizing inputs (localize/fetch.h).
  int localize_parallel = 8, localize_tries = 6;
  double localize_connect_timeout = 30, localize_stall_timeout = 60, localize_progress = 30;
  std::string insecure_tls_hosts, bucket_profiles, ssh_key, ssh_known_hosts, gs_endpoint;
};

/// Adds --root-work-dir, --worker-config, --datasets-config, --webdav-url,
/// --webdav-port, --kill-grace, --evict-cache, --grq-update-url-bulk and
/// --backoff-max-tries, each with its HySDS
/// environment variable as fallback, and the container flags
/// (--container-engine, --container-engine-arg, --container-registry,
/// --worker-mount-blacklist, --container-mount-layout,
/// --container-allowed-runtime-options, --cache-read-only, --image-cache-size;
/// HYSDS_GPU_AVAILABLE is read from the environment) and the localize flags (--localize-parallel,
/// --localize-tries, --localize-connect-timeout, --localize-stall-timeout,
/// --localize-progress-interval, --insecure-tls-hosts, --bucket-profiles,
/// --ssh-key, --ssh-known-hosts, --gs-endpoint), and --processor-python,
/// --processor-modules.
void AddPipelineFlags(CLI::App* cmd, PipelineFlags* flags);

/// The settings those flags give; the command inherits verdi's environment.
PipelineSettings MakePipelineSettings(const PipelineFlags& flags, std::string owner);

/// The reporter of HySDS statuses when --redis-job-status-url is set (null
/// otherwise); `hostname` is the celery_hostname of the documents. Terminal
/// statuses are watched for late writes for `watch_window` (0: not).
Status MakeStatusReporter(const PipelineFlags& flags, std::string hostname,
                          std::chrono::milliseconds watch_window,
                          std::unique_ptr<StatusReporter>* out);

}  // namespace verdi
