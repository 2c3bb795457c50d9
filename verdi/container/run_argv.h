// The container engine's command lines, built without running anything: the
// `run` argv that wraps a job's command (HySDS reference §4.5), the mounts it
// carries and their validation, and `_docker_params.json` (§3.2).
#pragma once

#include <sys/types.h>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/env_vars.h"
#include "base/status.h"
#include "jobspec/json_field.h"

namespace verdi {

/// How containers are run; PipelineSettings holds one.
struct ContainerSettings {
  /// CONTAINER_ENGINE: `docker` (default), `podman`, or a full path to either.
  std::string engine = "docker";
  /// Arguments put between the engine and its subcommand on every call
  /// (e.g. podman's `--root DIR --runroot DIR`). Podman also reads
  /// CONTAINERS_CONF and CONTAINERS_STORAGE_CONF from verdi's environment.
  std::vector<std::string> global_args;
  /// WORKER_MOUNT_BLACKLIST: host paths (and everything under them) never mounted.
  std::vector<std::string> mount_blacklist = {"/dev", "/etc", "/lib", "/proc", "/usr", "/var"};
  /// CACHE_READ_ONLY: <root>/cache is mounted read-only unless false.
  bool cache_read_only = true;
  /// HYSDS_GPU_AVAILABLE: the `gpus` runtime option is only passed when set.
  bool gpu_available = false;
  /// VERDI_HOME -> HOST_VERDI_HOME rewrite of mapping sources, when both are set.
  std::optional<std::string> verdi_home, host_verdi_home;
  /// CONTAINER_REGISTRY: images are pulled from <registry>/<name> (then tagged
  /// <name>) before any other source; failures there are only warnings.
  std::optional<std::string> registry;
  /// How long to wait for another job loading the same image (HySDS: 600 s).
  int image_lock_wait_seconds = 600;
  /// CONTAINER_IMAGE_CACHE_SIZE: downloaded image tarballs kept under
  /// <root>/cache/images, least recently used evicted beyond this; 0 removes
  /// each one once loaded (as HySDS does).
  uint64_t image_cache_bytes = uint64_t{10} << 30;
};

/// One bind mount: `-v host:target[:mode]`.
struct Mount {
  std::string host, target, mode;  // mode: "" (rw), "ro" or "rw"
  bool operator==(const Mount&) const = default;
};

/// Everything about one job that its container command depends on.
struct ContainerJob {
  std::string image;
  std::filesystem::path root_work_dir, job_dir;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string job_id, task_id, worker_name;
  /// host path -> container path, or [container path, "ro"|"rw"].
  Json mappings = Json::object();
  /// key -> value (string, number, or a list: one option each).
  Json runtime_options = Json::object();
  /// Names of the variables passed into the container, as `--env NAME`:
  /// the engine takes each value from its own environment, which the caller
  /// sets (RunRequest.env), so that no value is on a command line every
  /// local user can read.
  std::vector<std::string> env_names;
  std::optional<std::string> datasets_config_file, worker_config_file;
};

/// The deterministic container name of a job run: `verdi-<job_id>-<task_id>`,
/// with characters the engines refuse replaced by '_'.
std::string ContainerName(const std::string& job_id, const std::string& task_id);

/// Label keys carried by every container verdi starts.
inline constexpr const char* kLabelJobId = "verdi.job_id";
inline constexpr const char* kLabelTaskId = "verdi.task_id";
inline constexpr const char* kLabelWorker = "verdi.worker";
inline constexpr const char* kLabelJobDir = "verdi.job_dir";

/// An EnvLookup over "KEY=value" entries.
EnvLookup LookupIn(const std::vector<std::string>& env);

/// The job's mounts in HySDS's order: <root>/jobs, tasks, workers (rw);
/// <root>/cache (ro unless configured); the datasets and worker configs into
/// the job dir (ro, unless the user maps that source or target); then the
/// user's mappings (env-expanded, mode ro by default, relative targets under
/// the job dir). Invalid, naming the mapping, for `/`, a blacklisted prefix,
/// or a target that is not a path.
Status ContainerMounts(const ContainerJob& job, const ContainerSettings& settings,
                       const EnvLookup& lookup, std::vector<Mount>* mounts);

/// The runtime options as `--key value` pairs ($VARs expanded; `gpus` only
/// with gpu_available).
Status RuntimeOptionArgs(const Json& options, const ContainerSettings& settings,
                         const EnvLookup& lookup, std::vector<std::string>* args);

/// `<engine> [global args] args...`.
std::vector<std::string> EngineArgv(const ContainerSettings& settings,
                                    std::vector<std::string> args);

/// `<engine> run --init --rm -u uid:gid [--key value]... [--env NAME]...
/// [-v host:target[:mode]]... -w <job_dir> --label k=v... --name <name>
/// <image> <argv...>`.
Status ContainerRunArgv(const ContainerJob& job, const ContainerSettings& settings,
                        const EnvLookup& lookup, const std::vector<std::string>& argv,
                        std::vector<std::string>* out);

/// One entry of `_docker_params.json`: {image_name, image_url, uid, gid,
/// user_name, working_dir, volumes [[src, dst(:mode)]], runtime_options}.
/// A `$VAR` in a runtime option is expanded as RedactEnvValue shows it
/// (base/redact.h): "***" for a secret-looking name, URL passwords as "***".
Status DockerParams(const ContainerJob& job, const std::optional<std::string>& image_url,
                    const ContainerSettings& settings, const EnvLookup& lookup, Json* out);

}  // namespace verdi
