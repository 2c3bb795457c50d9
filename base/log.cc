#include "base/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <mutex>
#include <string>
#include <utility>

namespace verdi {
namespace {

std::atomic<LogLevel> min_level{LogLevel::kInfo};
std::atomic<LogFormat> log_format{LogFormat::kText};
thread_local LogContext thread_context;

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

// One write(2) per line, so lines from several threads never interleave.
void WriteLine(const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

// A message may carry text from a hostile source (a task id, a file name):
// its line breaks and other control characters are shown escaped, so one
// call is always exactly one line and no message can forge another.
std::string OneLine(std::string_view message) {
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

// The length of the UTF-8 sequence at the start of `s`, 0 when it is not
// one (a stray continuation byte, a truncated or overlong sequence, a
// surrogate, or past U+10FFFF).
size_t Utf8Length(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || n > s.size()) return 0;
  for (size_t i = 1; i < n; ++i)
    if ((b(i) & 0xc0) != 0x80) return 0;
  if (n == 2 && c < 0xc2) return 0;                   // overlong
  if (n == 3 && c == 0xe0 && b(1) < 0xa0) return 0;   // overlong
  if (n == 3 && c == 0xed && b(1) >= 0xa0) return 0;  // surrogate
  if (n == 4 && ((c == 0xf0 && b(1) < 0x90) || c > 0xf4 || (c == 0xf4 && b(1) >= 0x90)))
    return 0;  // overlong, > U+10FFFF
  return n;
}

// `text` as a JSON string, quotes included.
void AppendJsonString(std::string_view text, std::string* out) {
  *out += '"';
  while (!text.empty()) {
    auto u = static_cast<unsigned char>(text[0]);
    size_t n = Utf8Length(text);
    if (n == 0) {
      *out += "\\ufffd";
      n = 1;
    } else if (u == '"' || u == '\\') {
      *out += '\\';
      *out += text[0];
    } else if (u == '\n') {
      *out += "\\n";
    } else if (u == '\r') {
      *out += "\\r";
    } else if (u == '\t') {
      *out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      *out += fmt::format("\\u{:04x}", u);
    } else if (n == 2 && u == 0xc2 && static_cast<unsigned char>(text[1]) < 0xa0) {
      // U+0080..U+009F: C1 controls, which some terminals obey too.
      *out += fmt::format("\\u{:04x}", static_cast<unsigned char>(text[1]));
    } else {
      out->append(text.data(), n);
    }
    text.remove_prefix(n);
  }
  *out += '"';
}

}  // namespace

ScopedLogContext::ScopedLogContext(std::string task_id, std::string job_id)
    : saved_(std::move(thread_context)) {
  thread_context = {std::move(task_id), std::move(job_id)};
}

ScopedLogContext::~ScopedLogContext() { thread_context = std::move(saved_); }

const LogContext& CurrentLogContext() { return thread_context; }

void SetLogFormat(LogFormat format) { log_format = format; }

bool ParseLogFormat(std::string_view name, LogFormat* format) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "text") {
    *format = LogFormat::kText;
  } else if (lower == "json") {
    *format = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

std::string FormatLogLine(LogFormat format, WallClock::time_point when, LogLevel level,
                          std::string_view message, const LogContext& context) {
  if (format == LogFormat::kText)
    return fmt::format("{} {} {}\n", IsoUtc(when), LevelName(level), OneLine(message));
  std::string time = IsoUtc(when);
  time.erase(time.size() - 4, 3);  // milliseconds: .123456Z -> .123Z
  std::string line =
      "{\"time\":\"" + time + "\",\"level\":\"" + LevelName(level) + "\",\"message\":";
  AppendJsonString(message, &line);
  if (!context.task_id.empty()) {
    line += ",\"task_id\":";
    AppendJsonString(context.task_id, &line);
  }
  if (!context.job_id.empty()) {
    line += ",\"job_id\":";
    AppendJsonString(context.job_id, &line);
  }
  line += "}\n";
  return line;
}

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

void LogLine(LogLevel level, std::string_view message) {
  if (level < min_level) return;
  WriteLine(FormatLogLine(log_format, WallClock::now(), level, message, thread_context));
}

void LogFatal(std::string_view message) {
  if (log_format == LogFormat::kText)
    WriteLine(OneLine(message) + "\n");
  else
    WriteLine(
        FormatLogLine(log_format, WallClock::now(), LogLevel::kCritical, message, thread_context));
}

}  // namespace verdi
