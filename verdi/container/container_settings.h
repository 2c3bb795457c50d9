// How a worker runs its container jobs: the engine, what a job's container
// may reach on the host, and where images come from. PipelineSettings holds
// one; the flags and variables that fill it are in verdi/cli/pipeline_flags.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace verdi {

/// Which parts of the work root a job's container sees (CONTAINER_MOUNT_LAYOUT).
enum class MountLayout {
  /// Only the job's own dir (rw) and the input cache: the default.
  kJob,
  /// HySDS's: the whole <root>/jobs, tasks and workers trees (rw), so a job
  /// can read and rewrite the dirs of every other job on the worker.
  kHysds,
};

/// "job" or "hysds"; false for anything else.
bool ParseMountLayout(const std::string& text, MountLayout* out);
const char* MountLayoutName(MountLayout layout);

struct ContainerSettings {
  /// CONTAINER_ENGINE: `docker` (default), `podman`, or a full path to either.
  std::string engine = "docker";
  /// Arguments put between the engine and its subcommand on every call
  /// (e.g. podman's `--root DIR --runroot DIR`). Podman also reads
  /// CONTAINERS_CONF and CONTAINERS_STORAGE_CONF from verdi's environment.
  std::vector<std::string> global_args;
  /// WORKER_MOUNT_BLACKLIST: host paths (and everything under them) never
  /// mounted, on top of the ones never mounted whatever this says
  /// (host_access.h).
  std::vector<std::string> mount_blacklist = {"/dev", "/etc", "/lib", "/proc", "/usr", "/var"};
  /// CONTAINER_MOUNT_LAYOUT.
  MountLayout mount_layout = MountLayout::kJob;
  /// CONTAINER_ALLOWED_RUNTIME_OPTIONS: engine options a job's
  /// runtime_options may pass besides the built-in ones (runtime_options.h).
  std::vector<std::string> allowed_runtime_options;
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

}  // namespace verdi
