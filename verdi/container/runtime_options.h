// A job's `runtime_options` (HySDS: each key becomes an option of the
// engine's `run`), limited to an allow-list: the resource and limit options
// by default, more only when the worker's settings name them.
#pragma once

#include <string>
#include <vector>

#include "base/env_vars.h"
#include "base/status.h"
#include "jobspec/json_field.h"
#include "verdi/container/container_settings.h"

namespace verdi {

/// The options any job may pass: gpus (only with HYSDS_GPU_AVAILABLE),
/// shm-size, memory, memory-swap, memory-reservation, memory-swappiness,
/// cpus, cpu-shares, cpu-period, cpu-quota, cpuset-cpus, cpuset-mems,
/// pids-limit, ulimit, and env (NAME=value only: a bare name or a pattern
/// would hand the container the worker's own variables).
extern const std::vector<std::string> kAllowedRuntimeOptions;

/// Options no setting allows: those that name a host path the engine would
/// open (volume, mount, volumes-from, rootfs, env-file, label-file,
/// authfile, cidfile, pidfile, conmon-pidfile, log-opt: a host path reaches
/// a container only through container_mappings, which are checked), and
/// those verdi's bookkeeping rests on (name, label, user, workdir, rm,
/// detach, pod).
extern const std::vector<std::string> kNeverRuntimeOptions;

struct RuntimeOption {
  std::string key, value;
  bool operator==(const RuntimeOption&) const = default;
};

/// The job's runtime_options, each value ($VARs expanded) one entry, a list
/// one entry per element, in key order; `gpus` left out without
/// gpu_available. Invalid, naming the key, for an option neither built in
/// nor in settings.allowed_runtime_options (CONTAINER_ALLOWED_RUNTIME_OPTIONS),
/// one of kNeverRuntimeOptions, a key that is not a long option name, a
/// value that is not a string, number or boolean, or one with a control
/// character (a newline, a NUL).
Status RuntimeOptions(const Json& options, const ContainerSettings& settings,
                      const EnvLookup& lookup, std::vector<RuntimeOption>* out);

/// The same as engine arguments, one word each: `--key=value`, so that no
/// value is ever read as an option of its own.
Status RuntimeOptionArgs(const Json& options, const ContainerSettings& settings,
                         const EnvLookup& lookup, std::vector<std::string>* args);

}  // namespace verdi
