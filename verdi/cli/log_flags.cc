#include "verdi/cli/log_flags.h"

#include "base/log.h"

namespace verdi {

CLI::Option* AddLogLevelFlag(CLI::App* cmd, LogFlags* flags) {
  return cmd
      ->add_option("-l,--loglevel", flags->level,
                   "Lowest level logged: DEBUG, INFO, WARNING, ERROR, CRITICAL (FATAL)")
      ->check([](const std::string& value) -> std::string {
        LogLevel level;
        return ParseLogLevel(value, &level)
                   ? ""
                   : "expected DEBUG, INFO, WARNING, ERROR, CRITICAL or FATAL, got " + value;
      })
      ->capture_default_str();
}

CLI::Option* AddLogFormatFlag(CLI::App* cmd, LogFlags* flags) {
  return cmd
      ->add_option("--log-format", flags->format,
                   "Log lines as text (\"<time> LEVEL message\") or json: one object per\n"
                   "line with time (UTC, ms), level, message, and task_id and job_id when\n"
                   "the line concerns a task")
      ->envname("VERDI_LOG_FORMAT")
      ->check([](const std::string& value) -> std::string {
        LogFormat format;
        return ParseLogFormat(value, &format) ? "" : "expected text or json, got " + value;
      })
      ->capture_default_str();
}

void UseLogFlags(const LogFlags& flags) {
  LogLevel level = LogLevel::kInfo;
  (void)ParseLogLevel(flags.level, &level);
  SetLogLevel(level);
  LogFormat format = LogFormat::kText;
  (void)ParseLogFormat(flags.format, &format);
  SetLogFormat(format);
}

}  // namespace verdi
