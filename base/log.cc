#include "base/log.h"

#include <atomic>
#include <string>

#include <unistd.h>

#include "base/timestamp.h"

namespace verdi {
namespace {

std::atomic<LogLevel> min_level{LogLevel::kInfo};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace

void SetLogLevel(LogLevel level) { min_level = level; }

void LogLine(LogLevel level, std::string_view message) {
  if (level < min_level) return;
  // One write(2) per line, so lines from several threads never interleave.
  std::string line = fmt::format("{} {} {}\n", IsoUtc(WallClock::now()), LevelName(level), message);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace verdi
