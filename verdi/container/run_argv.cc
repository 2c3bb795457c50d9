#include "verdi/container/run_argv.h"

#include <fmt/format.h>
#include <pwd.h>

#include "base/redact.h"

namespace verdi {
namespace fs = std::filesystem;
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

std::string Normal(const std::string& path) {
  std::string s = fs::path(path).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool HasControl(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

// A path the engine's `-v host:target:mode` can carry as it is.
Status CheckMountPath(const std::string& where, const char* which, const std::string& path) {
  if (path.find(':') != std::string::npos || HasControl(path))
    return Status::Invalid(
        fmt::format("{}: refusing the {} path '{}': a ':' or a control "
                    "character cannot be passed to the engine",
                    where, which, path));
  return Status::OK();
}

// A host path the job's container may see, resolved: `*resolved` is what the
// engine is given.
Status CheckedHostPath(const std::string& where, const std::string& path, bool writable,
                       const HostAccess& access, std::string* resolved) {
  Status st = ResolveHostPath(path, resolved);
  if (st.IsNotFound())
    return Status::Invalid(fmt::format(
        "{}: refusing to mount {}: it does not exist on this host (the engine would create it, "
        "as root); create it first or drop the mapping",
        where, path));
  VERDI_RETURN_IF_ERROR(st.WithPrefix(where));
  VERDI_RETURN_IF_ERROR(CheckMountPath(where, "host", *resolved));
  st = access.Check(*resolved, writable);
  if (!st.ok()) {
    std::string from = *resolved == path ? "" : " (from " + path + ")";
    return Status::Invalid(
        fmt::format("{}: refusing to mount {}{}: {}", where, *resolved, from, st.message()));
  }
  return Status::OK();
}

Status UserMount(const std::string& key, const Json& value, const ContainerJob& job,
                 const ContainerSettings& settings, const HostAccess& access,
                 const EnvLookup& lookup, Mount* out) {
  std::string where = "container_mappings." + key;
  std::string host = ExpandEnvVars(key, lookup);
  if (host.empty() || host[0] != '/')
    return Status::Invalid(where + ": the host path must be absolute, got '" + host + "'");
  if (settings.verdi_home && settings.host_verdi_home &&
      IsPathUnder(Normal(host), Normal(*settings.verdi_home)))
    host = *settings.host_verdi_home + Normal(host).substr(Normal(*settings.verdi_home).size());
  std::string target, mode = "ro";
  if (value.is_string()) {
    target = value.get<std::string>();
  } else if (value.is_array() && !value.empty() && value.size() <= 2 && value[0].is_string() &&
             (value.size() == 1 || value[1] == "ro" || value[1] == "rw")) {
    target = value[0].get<std::string>();
    if (value.size() == 2) mode = value[1].get<std::string>();
  } else {
    return Status::Invalid(where +
                           ": expected a container path, or [container path, \"ro\" or \"rw\"]");
  }
  target = ExpandEnvVars(target, lookup);
  if (target.empty()) return Status::Invalid(where + ": empty container path");
  if (target[0] != '/') target = (job.job_dir / target).string();
  target = Normal(target);
  VERDI_RETURN_IF_ERROR(CheckMountPath(where, "container", target));
  std::string resolved;
  VERDI_RETURN_IF_ERROR(CheckedHostPath(where, host, mode == "rw", access, &resolved));
  *out = Mount{resolved, target, mode};
  return Status::OK();
}

}  // namespace

Status CheckImageName(const std::string& name) {
  bool ok = !name.empty() && IsNameChar(name[0]) && name[0] != '-' && name[0] != '.';
  for (char c : name) ok = ok && (IsNameChar(c) || c == '/' || c == ':' || c == '@');
  if (!ok)
    return Status::Invalid("container_image_name: '" + name +
                           "' is not an image reference (letters, digits and . _ - / : @, "
                           "starting with a letter, a digit or _)");
  return Status::OK();
}

std::string ContainerName(const std::string& job_id, const std::string& task_id) {
  std::string name = "verdi-" + job_id + "-" + task_id;
  for (char& c : name)
    if (!IsNameChar(c)) c = '_';
  return name;
}

EnvLookup LookupIn(const std::vector<std::string>& env) {
  return [env](const std::string& name) -> std::optional<std::string> {
    std::optional<std::string> found;
    for (const auto& entry : env)
      if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
          entry[name.size()] == '=')
        found = entry.substr(name.size() + 1);
    return found;
  };
}

Status JobHostAccess(const ContainerJob& job, const ContainerSettings& settings,
                     const EnvLookup& lookup, HostAccess* out) {
  std::vector<std::string> configs;
  for (const auto& file : {job.datasets_config_file, job.worker_config_file})
    if (file && !file->empty()) configs.push_back(fs::absolute(*file).string());
  return HostAccess::Make(job.root_work_dir, job.job_dir, configs, settings, lookup, out);
}

Status ContainerMounts(const ContainerJob& job, const ContainerSettings& settings,
                       const EnvLookup& lookup, std::vector<Mount>* mounts) {
  HostAccess access;
  VERDI_RETURN_IF_ERROR(JobHostAccess(job, settings, lookup, &access));
  // verdi's own mounts: the host side resolved, the same path inside.
  std::vector<Mount> out;
  auto own = [&out](const fs::path& path, const std::string& mode) -> Status {
    std::string resolved;
    VERDI_RETURN_IF_ERROR(ResolveHostPath(path.string(), &resolved));
    VERDI_RETURN_IF_ERROR(CheckMountPath("mount", "host", resolved));
    VERDI_RETURN_IF_ERROR(CheckMountPath("mount", "container", path.string()));
    out.push_back({resolved, path.string(), mode});
    return Status::OK();
  };
  if (settings.mount_layout == MountLayout::kHysds) {
    for (const char* sub : {"jobs", "tasks", "workers"})
      VERDI_RETURN_IF_ERROR(own(job.root_work_dir / sub, ""));
  } else {
    VERDI_RETURN_IF_ERROR(own(job.job_dir, ""));
  }
  VERDI_RETURN_IF_ERROR(own(job.root_work_dir / "cache", settings.cache_read_only ? "ro" : ""));

  std::vector<Mount> user;
  if (!job.mappings.is_object()) return Status::Invalid("container_mappings: expected an object");
  for (const auto& [key, value] : job.mappings.items()) {
    Mount m;
    VERDI_RETURN_IF_ERROR(UserMount(key, value, job, settings, access, lookup, &m));
    user.push_back(std::move(m));
  }
  auto add_config = [&](const std::optional<std::string>& file, const std::string& name) -> Status {
    if (!file || file->empty()) return Status::OK();
    std::string host;
    VERDI_RETURN_IF_ERROR(ResolveHostPath(fs::absolute(*file).string(), &host));
    std::string target = (job.job_dir / name).string();
    for (const auto& m : user)
      if (m.host == host || m.target == target) return Status::OK();
    VERDI_RETURN_IF_ERROR(CheckMountPath("mount", "host", host));
    out.push_back({host, target, "ro"});
    return Status::OK();
  };
  VERDI_RETURN_IF_ERROR(add_config(job.datasets_config_file, "datasets.json"));
  if (job.worker_config_file)
    VERDI_RETURN_IF_ERROR(
        add_config(job.worker_config_file, fs::path(*job.worker_config_file).filename().string()));
  for (auto& m : user) out.push_back(std::move(m));
  *mounts = std::move(out);
  return Status::OK();
}

std::vector<std::string> EngineArgv(const ContainerSettings& settings,
                                    std::vector<std::string> args) {
  std::vector<std::string> argv{settings.engine};
  argv.insert(argv.end(), settings.global_args.begin(), settings.global_args.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Status ContainerRunArgv(const ContainerJob& job, const ContainerSettings& settings,
                        const EnvLookup& lookup, const std::vector<std::string>& argv,
                        std::vector<std::string>* out) {
  if (argv.empty()) return Status::Invalid("the job has no command to run in its container");
  VERDI_RETURN_IF_ERROR(CheckImageName(job.image));
  std::vector<std::string> args{"run", "--init", "--rm", "-u",
                                fmt::format("{}:{}", job.uid, job.gid)};
  VERDI_RETURN_IF_ERROR(RuntimeOptionArgs(job.runtime_options, settings, lookup, &args));
  for (const auto& name : job.env_names) {
    args.push_back("--env");
    args.push_back(name);
  }
  std::vector<Mount> mounts;
  VERDI_RETURN_IF_ERROR(ContainerMounts(job, settings, lookup, &mounts));
  for (const auto& m : mounts) {
    args.push_back("-v");
    args.push_back(m.host + ":" + m.target + (m.mode.empty() ? "" : ":" + m.mode));
  }
  args.insert(args.end(), {"-w", job.job_dir.string()});
  for (const auto& [key, value] : {std::pair<const char*, std::string>{kLabelJobId, job.job_id},
                                   {kLabelTaskId, job.task_id},
                                   {kLabelWorker, job.worker_name},
                                   {kLabelJobDir, job.job_dir.string()}}) {
    args.push_back("--label");
    args.push_back(std::string(key) + "=" + value);
  }
  args.insert(args.end(), {"--name", ContainerName(job.job_id, job.task_id), job.image});
  args.insert(args.end(), argv.begin(), argv.end());
  *out = EngineArgv(settings, std::move(args));
  return Status::OK();
}

Status DockerParams(const ContainerJob& job, const std::optional<std::string>& image_url,
                    const ContainerSettings& settings, const EnvLookup& lookup, Json* out) {
  VERDI_RETURN_IF_ERROR(CheckImageName(job.image));
  std::vector<Mount> mounts;
  VERDI_RETURN_IF_ERROR(ContainerMounts(job, settings, lookup, &mounts));
  // A document: a $VAR in a runtime option shows as RedactEnvValue shows it.
  EnvLookup shown = [&lookup](const std::string& name) -> std::optional<std::string> {
    std::optional<std::string> value = lookup(name);
    if (value) *value = RedactEnvValue(name, *value);
    return value;
  };
  std::vector<RuntimeOption> options;
  VERDI_RETURN_IF_ERROR(RuntimeOptions(job.runtime_options, settings, shown, &options));
  Json volumes = Json::array();
  for (const auto& m : mounts)
    volumes.push_back({m.host, m.target + (m.mode.empty() ? "" : ":" + m.mode)});
  // As the job gave them: a list stays a list.
  Json runtime = Json::object();
  for (const RuntimeOption& o : options) {
    Json& v = runtime[o.key];
    if (v.is_null() && !job.runtime_options[o.key].is_array())
      v = o.value;
    else
      v.push_back(o.value);
  }
  std::string user_name;
  if (struct passwd* pw = getpwuid(job.uid); pw != nullptr) user_name = pw->pw_name;
  *out = {{"image_name", job.image}, {"image_url", image_url ? Json(*image_url) : Json(nullptr)},
          {"uid", job.uid},          {"gid", job.gid},
          {"user_name", user_name},  {"working_dir", job.job_dir.string()},
          {"volumes", volumes},      {"runtime_options", runtime}};
  return Status::OK();
}

}  // namespace verdi
