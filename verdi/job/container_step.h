// The container step of a job: its image (and its dependency images)
// ensured as HySDS's ensure_image_loaded does, `_docker_params.json`
// written, and the command wrapped in `<engine> run ...`; and, after the
// command, the container removed whatever happened to the engine's CLI.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"
#include "jobspec/json_field.h"
#include "localize/local_copy.h"
#include "verdi/job/pipeline.h"

namespace verdi {

/// For a job with container_image_name: ensures its images, writes
/// `<dir>/_docker_params.json`, records container_image_id in `*job` and
/// `*context`, wraps `*argv` in the engine's `run` and names the container
/// in `*container_name`. `images` holds the job's image URLs before they
/// were redacted. A job without an image is left as it is (OK).
Status PrepareContainer(const PreparedJob& p, const PipelineSettings& settings,
                        const std::filesystem::path& dir, const Json& images, Json* job,
                        Json* context, std::vector<std::string>* argv, std::string* container_name);

/// For a container job (PrepareContainer named its container): the check
/// each of its file:// inputs passes (localize/local_copy.h), the one its
/// mounts pass read-only (verdi/container/host_access.h): a container job
/// copies in only what it could have mounted.
Status ContainerInputCheck(const PreparedJob& p, const PipelineSettings& settings,
                           const std::filesystem::path& dir, localize::LocalSourceCheck* out);

/// After the engine's CLI is gone, the container `container_name` must be
/// gone too. When the CLI exited by itself with the command's own code
/// (below 125), `run --rm` has removed it: nothing to do. Exited with one of
/// the engine's codes (125 and up): checked, and removed when still there.
/// Ended otherwise (killed, not started): killed and removed at once.
/// Nothing for an empty name (a host job).
void RemoveContainer(const ContainerSettings& settings, const std::string& container_name,
                     const std::string& job_id, bool exited, int exit_code);

}  // namespace verdi
