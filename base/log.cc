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

// A message may carry text from a hostile source (a task id, a file name):
// its line breaks and other control characters are shown escaped, so one
// call is always exactly one line and no message can forge another.
static std::string OneLine(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (char c : message) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if ((u < 0x20 && c != '\t') || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

void LogLine(LogLevel level, std::string_view message) {
  if (level < min_level) return;
  // One write(2) per line, so lines from several threads never interleave.
  std::string line =
      fmt::format("{} {} {}\n", IsoUtc(WallClock::now()), LevelName(level), OneLine(message));
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
