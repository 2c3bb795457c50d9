// The log flags of the commands that run for long (worker, manager, and
// run_job): the lowest level logged and the format of the lines.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace verdi {

struct LogFlags {
  std::string level = "INFO";
  std::string format = "text";
};

/// -l/--loglevel: DEBUG, INFO, WARNING, ERROR, CRITICAL (FATAL), as Celery
/// names them, in any case.
CLI::Option* AddLogLevelFlag(CLI::App* cmd, LogFlags* flags);

/// --log-format text|json (VERDI_LOG_FORMAT).
CLI::Option* AddLogFormatFlag(CLI::App* cmd, LogFlags* flags);

/// From now on, log lines are of that level and up, in that format (both
/// checked by their flags).
void UseLogFlags(const LogFlags& flags);

}  // namespace verdi
