// Log lines on stderr: "2026-11-26T12:00:00.000000Z INFO message", or one
// JSON object per line; stderr may be a log file, reopened on request
// (logrotate). A thread working on a task says so once (ScopedLogContext),
// and its lines carry the task and job ids as fields in JSON.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "base/timestamp.h"

namespace verdi {

enum class LogLevel { kDebug, kInfo, kWarning, kError, kCritical };

/// kText: "<ISO time> LEVEL message". kJson: {"time", "level", "message"}
/// and "task_id" / "job_id" when the line has them, one object per line.
enum class LogFormat { kText, kJson };

/// What the lines of a thread concern ("" when nothing).
struct LogContext {
  std::string task_id, job_id;
};

/// The calling thread's lines concern this task and job while it lives;
/// the context it replaced comes back when it ends.
class ScopedLogContext {
 public:
  ScopedLogContext(std::string task_id, std::string job_id);
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  LogContext saved_;
};

/// The calling thread's context.
const LogContext& CurrentLogContext();

/// Default: kText.
void SetLogFormat(LogFormat format);

/// "text" or "json", in any case. False for another name.
bool ParseLogFormat(std::string_view name, LogFormat* format);

/// The line LogLine writes, newline included. Text: control characters of
/// the message escaped (\n, \r, \xNN), so that a message is one line. JSON:
/// every string escaped as JSON requires (control characters as \uNNNN)
/// and bytes that are not UTF-8 replaced by U+FFFD, the time in UTC with
/// milliseconds ("2026-11-26T12:00:00.123Z").
std::string FormatLogLine(LogFormat format, WallClock::time_point when, LogLevel level,
                          std::string_view message, const LogContext& context);

/// Lines below this level are dropped. Default: kInfo.
void SetLogLevel(LogLevel level);

/// A level as Python's logging (and Celery's --loglevel) names it, in any
/// case: DEBUG, INFO, WARNING (WARN), ERROR, CRITICAL (FATAL). False for
/// another name.
bool ParseLogLevel(std::string_view name, LogLevel* level);

/// From now on stderr, and so every log line, goes to the end of `path`
/// (created 0644 when absent). Returns false, with errno set, when it cannot
/// be opened; stderr is then unchanged.
bool SetLogFile(const std::string& path);

/// Opens the log file of SetLogFile again (by its path, so after logrotate
/// moved it a new file starts) and puts it in place of stderr at once; true
/// when there is none. Returns false, with errno set, when it cannot be
/// opened: the lines keep going to the file as it was.
bool ReopenLogFile();

/// Writes one whole line; safe to call from any thread.
void LogLine(LogLevel level, std::string_view message);

/// A message that ends the command ("verdi worker: --broker: ..."), written
/// whatever the level: alone on its line in text (as a user at a terminal
/// reads it), a CRITICAL line in JSON.
void LogFatal(std::string_view message);

template <typename... Args>
void LogDebug(fmt::format_string<Args...> f, Args&&... args) {
  LogLine(LogLevel::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void LogInfo(fmt::format_string<Args...> f, Args&&... args) {
  LogLine(LogLevel::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void LogWarning(fmt::format_string<Args...> f, Args&&... args) {
  LogLine(LogLevel::kWarning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void LogError(fmt::format_string<Args...> f, Args&&... args) {
  LogLine(LogLevel::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace verdi
