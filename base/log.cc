#include "base/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <mutex>
#include <string>

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
    case LogLevel::kCritical:
      return "CRITICAL";
  }
  return "?";
}

std::mutex log_file_mu;
std::string log_file;  // under log_file_mu

// Opens `path` for appending and puts it in place of stderr.
bool OpenOnStderr(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = dup2(fd, STDERR_FILENO) >= 0;
  int saved = errno;
  close(fd);
  errno = saved;
  return ok;
}

}  // namespace

void SetLogLevel(LogLevel level) { min_level = level; }

bool ParseLogLevel(std::string_view name, LogLevel* level) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "DEBUG") {
    *level = LogLevel::kDebug;
  } else if (upper == "INFO") {
    *level = LogLevel::kInfo;
  } else if (upper == "WARNING" || upper == "WARN") {
    *level = LogLevel::kWarning;
  } else if (upper == "ERROR") {
    *level = LogLevel::kError;
  } else if (upper == "CRITICAL" || upper == "FATAL") {
    *level = LogLevel::kCritical;
  } else {
    return false;
  }
  return true;
}

bool SetLogFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(log_file_mu);
  if (!OpenOnStderr(path)) return false;
  log_file = path;
  return true;
}

bool ReopenLogFile() {
  std::lock_guard<std::mutex> lock(log_file_mu);
  return log_file.empty() || OpenOnStderr(log_file);
}

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
