// The container engine's command lines, built without running anything: the
// `run` argv that wraps a job's command, the mounts it
// carries and their validation, and `_docker_params.json`.
#pragma once

#include <sys/types.h>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/env_vars.h"
#include "base/status.h"
#include "jobspec/json_field.h"
#include "verdi/container/container_settings.h"
#include "verdi/container/host_access.h"
#include "verdi/container/runtime_options.h"

namespace verdi {

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

/// OK for an image reference the engine cannot take for an option or split:
/// letters, digits and . _ - / : @, starting with a letter, a digit or _.
Status CheckImageName(const std::string& name);

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

/// The host access rule of the job (host_access.h): its work root and dir,
/// its config files, the settings and the worker's environment.
Status JobHostAccess(const ContainerJob& job, const ContainerSettings& settings,
                     const EnvLookup& lookup, HostAccess* out);

/// The job's mounts, each host path resolved (host_access.h) and given to
/// the engine resolved: the job's own dir (rw), or with the hysds layout
/// <root>/jobs, tasks and workers (rw); <root>/cache (ro unless configured);
/// the datasets and worker configs into the job dir (ro, unless the user
/// maps that source or target); then the user's mappings (env-expanded,
/// mode ro by default, relative targets under the job dir). Invalid, naming
/// the mapping and the resolved path, for a host path that does not exist
/// (the engine would make it, as root), one HostAccess refuses, or a path
/// with a ':' or a control character.
Status ContainerMounts(const ContainerJob& job, const ContainerSettings& settings,
                       const EnvLookup& lookup, std::vector<Mount>* mounts);

/// `<engine> [global args] args...`.
std::vector<std::string> EngineArgv(const ContainerSettings& settings,
                                    std::vector<std::string> args);

/// `<engine> run --init --rm -u uid:gid [--key=value]... [--env NAME]...
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
