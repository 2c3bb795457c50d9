// `_run.sh`: a script in the job directory that re-runs the job's command by
// hand, with exactly the same argv.
#pragma once

#include <string>
#include <vector>

#include "jobspec/worker_config.h"

namespace verdi {

/// The script's text:
///   #!/bin/bash
///   #KEY=value          the worker's environment, for information; secrets
///                       (names with SECRET, PASSWORD, TOKEN, CREDENTIAL or
///                       ending in _KEY) shown as ***, newlines as \n
///   export KEY='value'  the command's own env entries, quoted
///   'argv0' 'argv1' ... the command, each word shell-quoted
/// Unlike HySDS's, every word is quoted, so the shell reads back exactly
/// `argv`.
std::string RunScript(const std::vector<std::string>& worker_env,
                      const std::vector<EnvVar>& command_env, const std::vector<std::string>& argv);

}  // namespace verdi
