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

// `path` is `prefix` or under it, component-wise.
bool IsUnder(const std::string& path, std::string prefix) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  if (prefix == "/") return true;
  return path == prefix ||
         (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
          path[prefix.size()] == '/');
}

std::string Normal(const std::string& path) {
  std::string s = fs::path(path).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

Status UserMount(const std::string& key, const Json& value, const ContainerJob& job,
                 const ContainerSettings& settings, const EnvLookup& lookup, Mount* out) {
  std::string where = "container_mappings." + key;
  std::string host = ExpandEnvVars(key, lookup);
  if (host.empty() || host[0] != '/')
    return Status::Invalid(where + ": the host path must be absolute, got '" + host + "'");
  host = Normal(host);
  if (host == "/") return Status::Invalid(where + ": refusing to mount the host's root /");
  for (const auto& prefix : settings.mount_blacklist)
    if (!prefix.empty() && IsUnder(host, prefix))
      return Status::Invalid(
          fmt::format("{}: refusing to mount {}: under the blacklisted {} (WORKER_MOUNT_BLACKLIST)",
                      where, host, prefix));
  if (settings.verdi_home && settings.host_verdi_home && IsUnder(host, *settings.verdi_home))
    host = *settings.host_verdi_home + host.substr(Normal(*settings.verdi_home).size());
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
  if (target[0] != '/') target = (job.job_dir / target).lexically_normal().string();
  *out = Mount{host, target, mode};
  return Status::OK();
}

}  // namespace

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

Status ContainerMounts(const ContainerJob& job, const ContainerSettings& settings,
                       const EnvLookup& lookup, std::vector<Mount>* mounts) {
  std::vector<Mount> out;
  for (const char* sub : {"jobs", "tasks", "workers"}) {
    std::string p = (job.root_work_dir / sub).string();
    out.push_back({p, p, ""});
  }
  std::string cache = (job.root_work_dir / "cache").string();
  out.push_back({cache, cache, settings.cache_read_only ? "ro" : ""});

  std::vector<Mount> user;
  if (!job.mappings.is_object()) return Status::Invalid("container_mappings: expected an object");
  for (const auto& [key, value] : job.mappings.items()) {
    Mount m;
    VERDI_RETURN_IF_ERROR(UserMount(key, value, job, settings, lookup, &m));
    user.push_back(std::move(m));
  }
  auto add_config = [&](const std::optional<std::string>& file, const std::string& name) {
    if (!file || file->empty()) return;
    std::string host = fs::absolute(*file).lexically_normal().string();
    std::string target = (job.job_dir / name).string();
    for (const auto& m : user)
      if (m.host == host || m.target == target) return;
    out.push_back({host, target, "ro"});
  };
  add_config(job.datasets_config_file, "datasets.json");
  if (job.worker_config_file)
    add_config(job.worker_config_file, fs::path(*job.worker_config_file).filename().string());
  for (auto& m : user) out.push_back(std::move(m));
  *mounts = std::move(out);
  return Status::OK();
}

Status RuntimeOptionArgs(const Json& options, const ContainerSettings& settings,
                         const EnvLookup& lookup, std::vector<std::string>* args) {
  if (!options.is_object()) return Status::Invalid("runtime_options: expected an object");
  for (const auto& [key, value] : options.items()) {
    if (key == "gpus" && !settings.gpu_available) continue;
    if (key.empty() || key[0] == '-')
      return Status::Invalid("runtime_options." + key + ": not an option name");
    std::vector<Json> values =
        value.is_array() ? std::vector<Json>(value.begin(), value.end()) : std::vector<Json>{value};
    for (const Json& v : values) {
      std::string text;
      if (v.is_string())
        text = v.get<std::string>();
      else if (v.is_number() || v.is_boolean())
        text = v.dump();
      else
        return Status::Invalid("runtime_options." + key + ": expected a string or a number");
      args->push_back("--" + key);
      args->push_back(ExpandEnvVars(text, lookup));
    }
  }
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
  std::vector<Mount> mounts;
  VERDI_RETURN_IF_ERROR(ContainerMounts(job, settings, lookup, &mounts));
  // A document: a $VAR in a runtime option shows as RedactEnvValue shows it.
  EnvLookup shown = [&lookup](const std::string& name) -> std::optional<std::string> {
    std::optional<std::string> value = lookup(name);
    if (value) *value = RedactEnvValue(name, *value);
    return value;
  };
  std::vector<std::string> options;
  VERDI_RETURN_IF_ERROR(RuntimeOptionArgs(job.runtime_options, settings, shown, &options));
  Json volumes = Json::array();
  for (const auto& m : mounts)
    volumes.push_back({m.host, m.target + (m.mode.empty() ? "" : ":" + m.mode)});
  Json runtime = Json::object();
  for (size_t i = 0; i + 1 < options.size(); i += 2) runtime[options[i].substr(2)] = options[i + 1];
  std::string user_name;
  if (struct passwd* pw = getpwuid(job.uid); pw != nullptr) user_name = pw->pw_name;
  *out = {{"image_name", job.image}, {"image_url", image_url ? Json(*image_url) : Json(nullptr)},
          {"uid", job.uid},          {"gid", job.gid},
          {"user_name", user_name},  {"working_dir", job.job_dir.string()},
          {"volumes", volumes},      {"runtime_options", runtime}};
  return Status::OK();
}

}  // namespace verdi
