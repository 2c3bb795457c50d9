// `_run.sh`: a script in the job directory that re-runs the job's command by
// hand, with exactly the same argv and none of the job's secrets.
#pragma once

#include <string>
#include <vector>

#include "jobspec/worker_config.h"

namespace verdi {

/// The script's text:
///   #!/bin/bash
///   #KEY=value          the worker's environment, for information only (the
///                       script runs with the caller's): values of secret
///                       names shown as ***, URL passwords as ***, newlines
///                       as \n
///   export KEY='value'  the command's own env entries, quoted
///   # KEY: ...          instead, for an entry whose name looks secret or
///                       whose value holds URL credentials (base/redact.h):
///                       the value is left out and the line says to export
///                       it before running
///   'argv0' 'argv1' ... the command, each word shell-quoted
/// Unlike HySDS's, every word is quoted, so the shell reads back exactly
/// `argv`. The argv itself is written as it is: a container's command
/// carries env names only (`--env NAME`), never values.
/// The command's whole environment: the worker's (`base`, "KEY=value"
/// each) with the job's own env entries added, or overriding those of the
/// same name.
std::vector<std::string> CommandEnvironment(const std::vector<std::string>& base,
                                            const std::vector<EnvVar>& extra);

std::string RunScript(const std::vector<std::string>& worker_env,
                      const std::vector<EnvVar>& command_env, const std::vector<std::string>& argv);

}  // namespace verdi
