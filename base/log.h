// Log lines on stderr: "2026-11-26T12:00:00.000000Z INFO message"; stderr
// may be a log file, reopened on request (logrotate).
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace verdi {

enum class LogLevel { kDebug, kInfo, kWarning, kError, kCritical };

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
