// The worker config (HYSDS_WORKER_CFG, in HySDS's format): which command a
// job type runs. Without one, it is built from the job's `params._command`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "jobspec/job.h"
#include "jobspec/json_field.h"

namespace verdi {

struct EnvVar {
  std::string key;
  std::string value;
};

/// The command of one job type: argv = [path] + options + arguments.
struct CommandConfig {
  std::string path;
  std::vector<std::string> options;
  std::vector<std::string> arguments;
  std::vector<EnvVar> env;

  /// {path, options, arguments, env: [{key, value}]}, as HySDS stores it in
  /// the job under "command". The job goes into _job.json and the status
  /// documents, so each env value is shown as RedactEnvValue (base/redact.h)
  /// shows it: "***" for a secret-looking name, URL passwords as "***".
  Json ToJson() const;
};

/// One entry of `configs`. `entry` keeps the whole entry for the container
/// overrides (container_image_name, container_image_url, container_mappings,
/// runtime_options, dependency_images) that later stages read.
struct TypeConfig {
  std::string type;
  CommandConfig command;
  std::optional<uint64_t> disk_usage_bytes;
  Json entry = Json::object();
};

struct WorkerConfig {
  std::optional<std::string> root_work_dir;
  std::optional<std::string> webdav_port;
  std::optional<std::string> webdav_url;
  std::vector<TypeConfig> configs;

  /// The entry for `type`, or null.
  const TypeConfig* Find(const std::string& type) const;
};

/// Validates a worker config document; `where` names it (its file path).
Status ParseWorkerConfig(const Json& doc, const std::string& where, WorkerConfig* config);

/// HySDS's on-the-fly config for a job without HYSDS_WORKER_CFG: one entry
/// keyed by job.type, its command split from params._command with shell
/// rules, disk_usage from params._disk_usage, and the job-spec's
/// dependency_images. Fails when the job has no `_command`.
Status WorkerConfigFromJob(const Job& job, WorkerConfig* config);

/// The final argv: [path] + options + arguments, where an argument that is
/// exactly `$word` is replaced by job.params[word] and a list value is
/// spliced in as separate arguments. Non-string values are written as
/// Python's str() would (42, 1.5, True, None; objects as JSON), since HySDS
/// hands str() of each to the process.
Status ResolveArgv(const CommandConfig& command, const Json& params,
                   std::vector<std::string>* argv);

}  // namespace verdi
