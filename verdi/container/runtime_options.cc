#include "verdi/container/runtime_options.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace verdi {

const std::vector<std::string> kAllowedRuntimeOptions = {
    "cpu-period",  "cpu-quota",          "cpu-shares",  "cpus",
    "cpuset-cpus", "cpuset-mems",        "env",         "gpus",
    "memory",      "memory-reservation", "memory-swap", "memory-swappiness",
    "pids-limit",  "shm-size",           "ulimit"};

const std::vector<std::string> kNeverRuntimeOptions = {
    "authfile",   "cidfile", "conmon-pidfile", "detach", "env-file",     "label",
    "label-file", "log-opt", "mount",          "name",   "pidfile",      "pod",
    "rm",         "rootfs",  "user",           "volume", "volumes-from", "workdir"};

namespace {

bool Listed(const std::vector<std::string>& list, const std::string& key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

bool IsOptionName(const std::string& key) {
  if (key.size() < 2 || !(key[0] >= 'a' && key[0] <= 'z')) return false;
  for (char c : key)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

bool HasControl(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

// env: NAME=value, NAME a shell variable name.
bool IsAssignment(const std::string& s) {
  size_t eq = s.find('=');
  if (eq == 0 || eq == std::string::npos) return false;
  for (size_t i = 0; i < eq; ++i) {
    char c = s[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Status RuntimeOptions(const Json& options, const ContainerSettings& settings,
                      const EnvLookup& lookup, std::vector<RuntimeOption>* out) {
  if (!options.is_object()) return Status::Invalid("runtime_options: expected an object");
  std::vector<RuntimeOption> result;
  for (const auto& [key, value] : options.items()) {
    std::string where = "runtime_options." + key;
    if (HasControl(key) || !IsOptionName(key))
      return Status::Invalid(where + ": not an engine option's long name");
    if (Listed(kNeverRuntimeOptions, key))
      return Status::Invalid(fmt::format(
          "{}: refused: --{} is never passed to the engine, not even when listed in "
          "CONTAINER_ALLOWED_RUNTIME_OPTIONS (host paths reach a container only through "
          "container_mappings, which are checked; its name, labels, user, working dir and "
          "lifetime are verdi's)",
          where, key));
    if (!Listed(kAllowedRuntimeOptions, key) && !Listed(settings.allowed_runtime_options, key))
      return Status::Invalid(fmt::format(
          "{}: refused: --{} is not an allowed engine option (allowed: {}); the worker's "
          "CONTAINER_ALLOWED_RUNTIME_OPTIONS (--container-allowed-runtime-options) adds more",
          where, key, fmt::join(kAllowedRuntimeOptions, ", ")));
    if (key == "gpus" && !settings.gpu_available) continue;
    std::vector<Json> values =
        value.is_array() ? std::vector<Json>(value.begin(), value.end()) : std::vector<Json>{value};
    for (const Json& v : values) {
      std::string text;
      if (v.is_string())
        text = ExpandEnvVars(v.get<std::string>(), lookup);
      else if (v.is_number() || v.is_boolean())
        text = v.dump();
      else
        return Status::Invalid(where + ": expected a string, a number or a boolean");
      if (HasControl(text))
        return Status::Invalid(where + ": refused: its value holds a control character");
      if (key == "env" && !IsAssignment(text))
        return Status::Invalid(where +
                               ": expected NAME=value (a bare name or a pattern would pass the "
                               "worker's own variables into the container)");
      result.push_back({key, std::move(text)});
    }
  }
  *out = std::move(result);
  return Status::OK();
}

Status RuntimeOptionArgs(const Json& options, const ContainerSettings& settings,
                         const EnvLookup& lookup, std::vector<std::string>* args) {
  std::vector<RuntimeOption> list;
  VERDI_RETURN_IF_ERROR(RuntimeOptions(options, settings, lookup, &list));
  for (const RuntimeOption& o : list) args->push_back("--" + o.key + "=" + o.value);
  return Status::OK();
}

}  // namespace verdi
