#include "verdi/cli/pipeline_flags.h"

#include <cstdlib>
#include <sstream>

#include "jobspec/disk_usage.h"
#include "jobspec/json_field.h"
#include "localize/transfer.h"

extern char** environ;

namespace verdi {
namespace {

std::optional<std::string> Given(const std::string& value) {
  return value.empty() ? std::nullopt : std::optional<std::string>(value);
}

std::vector<std::string> Words(std::string text) {
  for (char& c : text)
    if (c == ',') c = ' ';
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// --image-cache-size: 0, or a size as job-specs write them ("10GB").
Status ParseCacheSize(const std::string& text, uint64_t* bytes) {
  if (text == "0") {
    *bytes = 0;
    return Status::OK();
  }
  return ParseDiskUsage(text, "--image-cache-size", bytes);
}

// HYSDS_GPU_AVAILABLE: set, and not 0 / false / empty.
bool GpuAvailable() {
  const char* v = getenv("HYSDS_GPU_AVAILABLE");
  if (v == nullptr) return false;
  std::string s(v);
  return !(s.empty() || s == "0" || s == "false" || s == "False" || s == "FALSE");
}

// BUCKET_PROFILES as JSON: [{"profile": P, "bucket_patterns": [regex, ...] or
// regex or absent}, ...].
Status ParseBucketProfiles(const std::string& text, std::vector<localize::BucketProfile>* out) {
  out->clear();
  if (text.empty()) return Status::OK();
  Json doc = Json::parse(text, nullptr, false);
  if (!doc.is_array()) return Status::Invalid("BUCKET_PROFILES: expected a JSON list");
  for (const Json& entry : doc) {
    if (!entry.is_object() || !entry.contains("profile") || !entry["profile"].is_string())
      return Status::Invalid("BUCKET_PROFILES: each entry needs a string \"profile\"");
    localize::BucketProfile p;
    p.profile = entry["profile"].get<std::string>();
    Json patterns = entry.value("bucket_patterns", Json());
    if (patterns.is_string()) patterns = Json::array({patterns});
    if (!patterns.is_null() && !patterns.is_array())
      return Status::Invalid("BUCKET_PROFILES: bucket_patterns of " + p.profile +
                             " must be a string or a list of strings");
    for (const Json& pat : patterns) {
      if (!pat.is_string())
        return Status::Invalid("BUCKET_PROFILES: bucket_patterns of " + p.profile +
                               " must be strings");
      p.patterns.push_back(pat.get<std::string>());
    }
    out->push_back(std::move(p));
  }
  std::string ignored;
  return localize::BucketProfileFor("", *out, &ignored);  // the regexes compile
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
                  "datasets.json: the rules that publish the datasets a job made (none:\n"
                  "nothing is published)")
      ->envname("HYSDS_DATASETS_CFG");
  cmd->add_option("--grq-update-url-bulk", flags->grq_update_url_bulk,
                  "GRQ's bulk index URL: the published datasets' documents are POSTed there\n"
                  "(none: not indexed)")
      ->envname("GRQ_UPDATE_URL_BULK");
  cmd->add_option("--backoff-max-tries", flags->backoff_max_tries,
                  "Tries of an upload or of the index POST on transient failures")
      ->envname("BACKOFF_MAX_TRIES")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->add_option("--triage-version", flags->triage_version,
                  "The version of triage products, as HySDS writes its own (it names their GRQ "
                  "index and, in most datasets configs, their location)")
      ->envname("VERDI_TRIAGE_VERSION")
      ->capture_default_str();
  cmd->add_option("--triage-partition-format", flags->triage_partition_format,
                  "A strftime format: triage products go to the GRQ index suffix "
                  "<version>_<now formatted>_triaged_job (HySDS's TRIAGE_PARTITION_FORMAT)")
      ->envname("TRIAGE_PARTITION_FORMAT");
  cmd->add_option("--jobs-es-url", flags->jobs_es_url,
                  "Mozart's Elasticsearch/OpenSearch (its job_status-current index), asked "
                  "before a job with job_info.dedup runs whether another task with its payload "
                  "hash started or completed (then job-deduped); several, comma-separated, are "
                  "tried in order. None: not asked")
      ->envname("JOBS_ES_URL");
  cmd->add_flag("--jobs-aws-es", flags->jobs_aws_es,
                "Sign the --jobs-es-url requests with AWS SigV4 (service es), as for an AWS "
                "OpenSearch domain (also done for hosts under es.amazonaws.com)")
      ->envname("JOBS_AWS_ES");
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
  cmd->add_option("--container-engine", flags->container_engine,
                  "Container engine CLI for jobs with a container_image_name: docker or podman,\n"
                  "or a full path to one (podman also reads CONTAINERS_CONF and\n"
                  "CONTAINERS_STORAGE_CONF)")
      ->envname("CONTAINER_ENGINE")
      ->check([](const std::string& value) -> std::string {
        std::string base = value.substr(value.rfind('/') + 1);
        return base == "docker" || base == "podman" ? "" : "expected docker or podman";
      })
      ->capture_default_str();
  cmd->add_option("--container-engine-arg", flags->container_engine_args,
                  "An argument put before the engine's subcommand on every call (repeatable),\n"
                  "e.g. --container-engine-arg=--root=/tmp/storage");
  cmd->add_option("--container-registry", flags->container_registry,
                  "Pull <registry>/<image> (and tag it) before loading an image otherwise")
      ->envname("CONTAINER_REGISTRY");
  cmd->add_option("--worker-mount-blacklist", flags->mount_blacklist,
                  "Host paths (space or comma separated) never mounted into a container,\n"
                  "besides those never mounted whatever this says (/proc, /sys, /dev, /run,\n"
                  "/boot, /etc, /root, the engine's storage, credential dirs of $HOME, ...)")
      ->envname("WORKER_MOUNT_BLACKLIST")
      ->capture_default_str();
  cmd->add_option("--container-mount-layout", flags->container_mount_layout,
                  "What of the work root a container sees: job (its own job dir and the\n"
                  "input cache) or hysds (HySDS's: all of jobs/, tasks/ and workers/\n"
                  "read-write, so jobs can rewrite each other's dirs)")
      ->envname("CONTAINER_MOUNT_LAYOUT")
      ->check(CLI::IsMember({"job", "hysds"}))
      ->capture_default_str();
  cmd->add_option("--container-allowed-runtime-options", flags->container_allowed_options,
                  "Engine options (space or comma separated, e.g. \"network tmpfs\") a job's\n"
                  "runtime_options may pass besides gpus, shm-size, memory, memory-swap,\n"
                  "memory-reservation, memory-swappiness, cpus, cpu-shares, cpu-period,\n"
                  "cpu-quota, cpuset-cpus, cpuset-mems, pids-limit, ulimit and env; never\n"
                  "one naming a host path (volume, mount, env-file, ...) nor name, label,\n"
                  "user, workdir, rm, detach, pod")
      ->envname("CONTAINER_ALLOWED_RUNTIME_OPTIONS");
  cmd->add_option("--cache-read-only", flags->cache_read_only,
                  "Mount <root>/cache read-only into containers (true/false)")
      ->envname("CACHE_READ_ONLY")
      ->capture_default_str();
  cmd->add_option("--localize-parallel", flags->localize_parallel,
                  "Input downloads running at once")
      ->envname("VERDI_LOCALIZE_PARALLEL")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--localize-tries", flags->localize_tries,
                  "Tries per input on transient failures (5xx, timeouts, lost connections)")
      ->envname("VERDI_LOCALIZE_TRIES")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->add_option("--localize-connect-timeout", flags->localize_connect_timeout,
                  "Seconds to connect to an input's server")
      ->envname("VERDI_LOCALIZE_CONNECT_TIMEOUT")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--localize-stall-timeout", flags->localize_stall_timeout,
                  "Seconds without data before a download counts as stalled (and is tried\n"
                  "again); a long download that keeps moving never times out")
      ->envname("VERDI_LOCALIZE_STALL_TIMEOUT")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
  cmd->add_option("--localize-progress-interval", flags->localize_progress,
                  "Seconds between progress lines of a running download (0: none)")
      ->envname("VERDI_LOCALIZE_PROGRESS_INTERVAL")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  cmd->add_option("--insecure-tls-hosts", flags->insecure_tls_hosts,
                  "Hosts (host or host:port, space or comma separated) whose TLS certificates\n"
                  "are not verified when localizing inputs")
      ->envname("VERDI_INSECURE_TLS_HOSTS");
  cmd->add_option("--ssh-key", flags->ssh_key,
                  "Private key for sftp:// inputs (default: libcurl's, ~/.ssh/id_rsa)")
      ->envname("VERDI_SSH_KEY");
  cmd->add_option("--ssh-known-hosts", flags->ssh_known_hosts,
                  "known_hosts file sftp:// servers must be listed in (default:\n"
                  "~/.ssh/known_hosts when it exists)")
      ->envname("VERDI_SSH_KNOWN_HOSTS");
  cmd->add_option("--gs-endpoint", flags->gs_endpoint,
                  "Where gs:// inputs and products go: Google Cloud Storage's XML API\n"
                  "(default https://storage.googleapis.com), or another server that speaks it")
      ->envname("VERDI_GS_ENDPOINT")
      ->check([](const std::string& value) -> std::string {
        bool ok = value.rfind("http://", 0) == 0 || value.rfind("https://", 0) == 0;
        return ok ? "" : "expected http://host[:port] or https://host[:port], got " + value;
      });
  cmd->add_option("--bucket-profiles", flags->bucket_profiles,
                  "HySDS's BUCKET_PROFILES as JSON: [{\"profile\": P, \"bucket_patterns\":\n"
                  "[regex, ...]}, ...]: the AWS profile for the s3 URLs a pattern matches")
      ->envname("BUCKET_PROFILES")
      ->check([](const std::string& value) -> std::string {
        std::vector<localize::BucketProfile> profiles;
        Status st = ParseBucketProfiles(value, &profiles);
        return st.ok() ? "" : st.message();
      });
  cmd->add_option("--processor-python", flags->processor_python,
                  "Python interpreter of the job-specs' pre/post processors that are Python\n"
                  "functions (module.func), looked up on PATH")
      ->envname("VERDI_PROCESSOR_PYTHON")
      ->capture_default_str();
  cmd->add_option("--processor-modules", flags->processor_modules,
                  "Modules (space or comma separated) whose functions, and their submodules',\n"
                  "may run as Python pre/post processors (none given: any, as in HySDS)")
      ->envname("VERDI_PROCESSOR_MODULES");
  cmd->add_option("--image-cache-size", flags->image_cache_size,
                  "Image tarballs downloaded from URLs are kept under <root>/cache/images up\n"
                  "to this size (e.g. 500MB, 10GB), least recently used evicted first;\n"
                  "0 deletes each once loaded")
      ->envname("CONTAINER_IMAGE_CACHE_SIZE")
      ->check([](const std::string& value) -> std::string {
        uint64_t bytes = 0;
        Status st = ParseCacheSize(value, &bytes);
        return st.ok() ? "" : st.message();
      })
      ->capture_default_str();
}

PipelineSettings MakePipelineSettings(const PipelineFlags& flags, std::string owner) {
  PipelineSettings settings;
  if (!flags.root_work_dir.empty()) settings.root_work_dir = flags.root_work_dir;
  settings.worker_config_file = Given(flags.worker_config);
  settings.datasets_config_file = Given(flags.datasets_config);
  settings.grq_update_url_bulk = flags.grq_update_url_bulk;
  settings.backoff_max_tries = flags.backoff_max_tries;
  settings.triage_version = flags.triage_version;
  settings.triage_partition_format = flags.triage_partition_format;
  settings.webdav_url = Given(flags.webdav_url);
  settings.webdav_port = Given(flags.webdav_port);
  settings.kill_grace =
      std::chrono::milliseconds(static_cast<int64_t>(flags.kill_grace_seconds * 1000));
  settings.scrub.evict_cache = flags.evict_cache;
  settings.owner = std::move(owner);
  settings.containers.engine = flags.container_engine;
  settings.containers.global_args = flags.container_engine_args;
  settings.containers.mount_blacklist = Words(flags.mount_blacklist);
  settings.containers.cache_read_only = flags.cache_read_only;
  (void)ParseMountLayout(flags.container_mount_layout, &settings.containers.mount_layout);
  settings.containers.allowed_runtime_options = Words(flags.container_allowed_options);
  settings.containers.gpu_available = GpuAvailable();
  if (!flags.container_registry.empty()) settings.containers.registry = flags.container_registry;
  (void)ParseCacheSize(flags.image_cache_size, &settings.containers.image_cache_bytes);
  for (char** e = environ; *e != nullptr; ++e) settings.base_env.emplace_back(*e);
  settings.python = flags.processor_python;
  settings.processor_modules = Words(flags.processor_modules);
  localize::FetchOptions& fetch = settings.fetch;
  fetch.parallel = flags.localize_parallel;
  fetch.tries = flags.localize_tries;
  fetch.transfer.connect_timeout_seconds = static_cast<long>(flags.localize_connect_timeout);
  fetch.transfer.stall_seconds = static_cast<long>(flags.localize_stall_timeout);
  fetch.transfer.use_netrc = true;  // as HySDS
  fetch.transfer.insecure_hosts = Words(flags.insecure_tls_hosts);
  fetch.progress_seconds = flags.localize_progress;
  fetch.transfer.ssh_private_key = flags.ssh_key;
  fetch.transfer.ssh_known_hosts = flags.ssh_known_hosts;
  fetch.transfer.gs_endpoint = flags.gs_endpoint;
  (void)ParseBucketProfiles(flags.bucket_profiles, &fetch.transfer.bucket_profiles);  // checked
  if (!flags.jobs_es_url.empty()) {
    JobDedupSettings dedup;
    dedup.es_urls = Words(flags.jobs_es_url);
    dedup.aws_es = flags.jobs_aws_es;
    if (const char* home = std::getenv("HOME")) dedup.netrc_file = std::string(home) + "/.netrc-os";
    dedup.redis_url = flags.status_url;
    dedup.transfer = settings.fetch.transfer;  // TLS settings, timeouts
    settings.dedup = std::make_shared<JobDedup>(std::move(dedup));
  }
  return settings;
}

Status MakeStatusReporter(const PipelineFlags& flags, std::string hostname,
                          std::chrono::milliseconds watch_window,
                          std::unique_ptr<StatusReporter>* out) {
  out->reset();
  if (flags.status_url.empty()) return Status::OK();
  StatusSinkOptions options;
  options.status_url = flags.status_url;
  options.status_key = flags.status_key;
  options.info_url = flags.info_url;
  options.info_key = flags.info_key;
  options.watch_window = watch_window;
  std::unique_ptr<StatusSink> sink;
  VERDI_RETURN_IF_ERROR(StatusSink::Make(options, &sink).WithPrefix("--redis-job-status-url"));
  *out = std::make_unique<StatusReporter>(std::move(sink), std::move(hostname));
  return Status::OK();
}

}  // namespace verdi
