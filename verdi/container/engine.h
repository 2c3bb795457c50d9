// Talking to the container engine's CLI (docker, or podman with the same
// arguments): images (inspect, load, pull), and the containers a job leaves
// (kill, rm, the orphans of a dead worker). Every call has a timeout and
// captures the engine's output.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/timestamp.h"
#include "localize/fetch.h"
#include "verdi/container/run_argv.h"
#include "verdi/process/command_output.h"
#include "verdi/workdir/close_out.h"

namespace verdi {

using EngineResult = CommandOutput;

/// Runs `<engine> [global args] args...` with verdi's environment, no input,
/// output captured; killed after `timeout`. An error when it could not be
/// started; a non-zero exit is reported in `result`.
Status RunEngine(const ContainerSettings& settings, const std::vector<std::string>& args,
                 std::chrono::milliseconds timeout, EngineResult* result);

/// `image inspect`: the image's id, or nullopt when the engine has no such image.
Status InspectImage(const ContainerSettings& settings, const std::string& image,
                    std::optional<std::string>* id);

/// Where an image comes from when the engine does not have it.
struct ImageSource {
  std::string name;
  /// A tarball (`docker save` output): a local path or file:// URL (loaded
  /// where it is), or any URL the localize layer fetches (http, https,
  /// ftp, ...: downloaded into <cache_dir>/images, see image_cache.h).
  std::optional<std::string> url;
  /// Hex sha256 of the tarball; else `<url>.sha256` is used when it exists
  /// (first word of its first line).
  std::optional<std::string> sha256;
  /// CONTAINER_REGISTRY: pull <registry>/<name> and tag it <name> first
  /// (not when the name starts with a registry host of its own).
  std::optional<std::string> registry;
};

/// Makes sure the engine has `source.name` and returns its id (
/// inspect; else registry pull + tag; else the tarball at the URL; else
/// `pull <name>`). Loads happen under an flock on
/// `<cache_dir>/<name>.load.lock`: concurrent jobs needing
/// the same missing image load it once, the others wait (at most
/// settings.image_lock_wait_seconds) and find it loaded. A failed load,
/// pull or checksum fails with the reason (the engine's stderr); nothing is
/// remembered, so the next job tries again.
/// Downloads use `fetch` (the job's localize settings).
Status EnsureImage(const ContainerSettings& settings, const ImageSource& source,
                   const std::filesystem::path& cache_dir, const localize::FetchOptions& fetch,
                   std::string* image_id);

/// The platform.machine() of this host (x86_64, aarch64, ...).
std::string MachineArch();

/// The image URL of a job: `container_image_urls` (an object, or its JSON
/// text, keyed by machine) for this machine, else `container_image_url`.
std::optional<std::string> ImageUrlFor(const Json& job, const std::string& arch);

/// `kill <name>` then `rm -f <name>`; OK when there is no such container.
Status KillContainer(const ContainerSettings& settings, const std::string& name);

/// Whether a container of that name exists (running or not).
Status ContainerExists(const ContainerSettings& settings, const std::string& name, bool* exists);

/// At a worker's start: every container labelled verdi.worker=`worker_name`
/// (left by an earlier life of this worker) is killed and removed, and its
/// job directory (label verdi.job_dir), when still `.running`, is closed out
/// as failed: the reason appended to `_stderr.txt`, `_job.json` with
/// job_status job-failed and the error, then `.done`, then `closed` (may be
/// empty) is called with that job and the reason (the worker reports the
/// final status). Returns how many containers were removed in `removed`
/// (may be null).
Status RemoveOrphanContainers(const ContainerSettings& settings, const std::string& worker_name,
                              WallClock::time_point now, int* removed,
                              const AbandonedJobReport& closed = nullptr);

}  // namespace verdi
