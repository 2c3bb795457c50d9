#include "verdi/job/container_step.h"

#include <unistd.h>

#include <future>
#include <memory>

#include <fmt/format.h>

#include "base/files.h"
#include "base/log.h"
#include "base/redact.h"
#include "localize/url.h"
#include "verdi/container/engine.h"
#include "verdi/job/run_script.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> Redacted(const std::optional<std::string>& url) {
  if (!url) return url;
  return RedactUrls(*url);
}

// A local image tarball (a path or a file:// URL) is loaded where it is:
// a job may name one only where it could have mounted it read-only.
Status CheckLocalImage(const std::optional<std::string>& url, const HostAccess& access) {
  localize::Url u;
  if (!url || !localize::ParseUrl(*url, &u).ok() || u.IsNetwork()) return Status::OK();
  std::string real;
  if (!ResolveHostPath(u.path, &real).ok()) return Status::OK();  // the load says it is missing
  Status st = access.Check(real, false);
  if (!st.ok())
    return Status::Invalid(
        fmt::format("container_image_url: refusing to load {}: {}", real, st.message()));
  return Status::OK();
}

}  // namespace

Status ContainerInputCheck(const PreparedJob& p, const PipelineSettings& settings,
                           const fs::path& dir, localize::LocalSourceCheck* out) {
  ContainerJob cj;
  cj.root_work_dir = p.root_work_dir;
  cj.job_dir = dir;
  cj.datasets_config_file = settings.datasets_config_file;
  cj.worker_config_file = settings.worker_config_file;
  auto access = std::make_shared<HostAccess>();
  VERDI_RETURN_IF_ERROR(
      JobHostAccess(cj, settings.containers,
                    LookupIn(CommandEnvironment(settings.base_env, p.command.env)), access.get()));
  *out = [access](const std::string& real_path) { return access->Check(real_path, false); };
  return Status::OK();
}

Status PrepareContainer(const PreparedJob& p, const PipelineSettings& settings, const fs::path& dir,
                        const Json& images, Json* job, Json* context,
                        std::vector<std::string>* argv, std::string* container_name) {
  auto image = job->find("container_image_name");
  if (image == job->end() || !image->is_string() || image->get<std::string>().empty())
    return Status::OK();
  const ContainerSettings& cs = settings.containers;
  std::vector<std::string> env = CommandEnvironment(settings.base_env, p.command.env);
  EnvLookup lookup = LookupIn(env);
  const JobSpec* spec = p.job.spec ? &*p.job.spec : nullptr;

  ContainerJob cj;
  cj.image = image->get<std::string>();
  cj.root_work_dir = p.root_work_dir;
  cj.job_dir = dir;
  cj.uid = getuid();
  cj.gid = getgid();
  cj.job_id = p.job.job_id;
  cj.task_id = p.job.task_id;
  cj.worker_name = settings.owner;
  cj.mappings = job->value("container_mappings", spec ? spec->imported_worker_files : Json());
  if (cj.mappings.is_null()) cj.mappings = Json::object();
  cj.runtime_options = job->value("runtime_options", spec ? spec->runtime_options : Json());
  if (cj.runtime_options.is_null()) cj.runtime_options = Json::object();
  // Names only: the engine process, spawned with the command's
  // environment (RunCommand), gives the values to the container.
  for (const auto& var : p.command.env) cj.env_names.push_back(var.key);
  cj.datasets_config_file = settings.datasets_config_file;
  cj.worker_config_file = settings.worker_config_file;
  *container_name = ContainerName(cj.job_id, cj.task_id);
  // A container of the same name (an earlier delivery of this task) goes
  // first: looked for while the image is ensured, each an engine call of a
  // tenth of a second or more. Waited for on every return (~future).
  std::future<Status> leftover = std::async(std::launch::async, [&cs, name = *container_name] {
    bool exists = false;
    Status st = ContainerExists(cs, name, &exists);
    if (st.ok() && exists) st = KillContainer(cs, name);
    return st;
  });

  // What is mounted exists first: mounts are made of resolved paths.
  fs::path cache = p.root_work_dir / "cache";
  for (const fs::path& sub :
       {p.root_work_dir / "jobs", p.root_work_dir / "tasks", p.root_work_dir / "workers", cache}) {
    std::error_code ec;
    fs::create_directories(sub, ec);
    if (ec) return Status::IOError("creating " + sub.string(), ec.value());
  }
  std::vector<std::string> run_argv;
  VERDI_RETURN_IF_ERROR(ContainerRunArgv(cj, cs, lookup, p.argv, &run_argv));
  Json params = Json::object();
  std::optional<std::string> url = ImageUrlFor(images, MachineArch());
  VERDI_RETURN_IF_ERROR(DockerParams(cj, Redacted(url), cs, lookup, &params[cj.image]));

  HostAccess access;
  VERDI_RETURN_IF_ERROR(JobHostAccess(cj, cs, lookup, &access));
  VERDI_RETURN_IF_ERROR(CheckLocalImage(url, access));
  ImageSource source{cj.image, url, std::nullopt, cs.registry};
  if (auto sha = job->find("container_image_sha256"); sha != job->end() && sha->is_string())
    source.sha256 = sha->get<std::string>();
  std::string image_id;
  VERDI_RETURN_IF_ERROR(EnsureImage(cs, source, cache, settings.fetch, &image_id));
  (*job)["container_image_id"] = image_id;
  (*context)["container_image_id"] = image_id;

  // Dependency images: loaded and described, never started.
  Json deps = images.value("dependency_images", Json::array());
  if (deps.empty() && spec)
    for (const auto& d : spec->dependency_images)
      deps.push_back({{"container_image_name", d.container_image_name},
                      {"container_image_url",
                       d.container_image_url ? Json(*d.container_image_url) : Json(nullptr)},
                      {"container_mappings", d.container_mappings},
                      {"runtime_options", d.runtime_options}});
  for (const auto& dep : deps) {
    if (!dep.is_object() || !dep.contains("container_image_name") ||
        !dep["container_image_name"].is_string())
      return Status::Invalid("dependency_images: each needs a container_image_name");
    ContainerJob dj = cj;
    dj.image = dep["container_image_name"].get<std::string>();
    dj.mappings = dep.value("container_mappings", Json::object());
    dj.runtime_options = dep.value("runtime_options", Json::object());
    std::optional<std::string> dep_url = ImageUrlFor(dep, MachineArch());
    VERDI_RETURN_IF_ERROR(DockerParams(dj, Redacted(dep_url), cs, lookup, &params[dj.image])
                              .WithPrefix("dependency_images"));
    VERDI_RETURN_IF_ERROR(CheckLocalImage(dep_url, access).WithPrefix("dependency_images"));
    ImageSource dep_source{dj.image, dep_url, std::nullopt, cs.registry};
    if (auto sha = dep.find("container_image_sha256"); sha != dep.end() && sha->is_string())
      dep_source.sha256 = sha->get<std::string>();
    std::string dep_id;
    VERDI_RETURN_IF_ERROR(EnsureImage(cs, dep_source, cache, settings.fetch, &dep_id));
  }
  VERDI_RETURN_IF_ERROR(
      WriteFileAtomic((dir / "_docker_params.json").string(), DumpJsonFile(params)));

  VERDI_RETURN_IF_ERROR(leftover.get());
  *argv = std::move(run_argv);
  return Status::OK();
}

void RemoveContainer(const ContainerSettings& cs, const std::string& container_name,
                     const std::string& job_id, bool exited, int exit_code) {
  if (container_name.empty() || (exited && exit_code >= 0 && exit_code < 125)) return;
  bool exists = true;
  if (exited) {
    Status st = ContainerExists(cs, container_name, &exists);
    if (!st.ok()) LogWarning("job {}: {}", job_id, st.message());
  }
  if (!exists) return;
  Status st = KillContainer(cs, container_name);
  if (st.ok())
    LogInfo("job {}: container {} killed and removed", job_id, container_name);
  else
    LogError("job {}: {}", job_id, st.message());
}

}  // namespace verdi
