#include "base/log.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace verdi {
namespace {

// What LogLine writes to stderr while `f` runs.
template <typename F>
std::string CaptureStderr(F f) {
  std::FILE* tmp = std::tmpfile();
  int saved = dup(STDERR_FILENO);
  dup2(fileno(tmp), STDERR_FILENO);
  f();
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::string out;
  std::rewind(tmp);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, tmp)) > 0) out.append(buf, n);
  std::fclose(tmp);
  return out;
}

// A task id or a file name with a line break cannot forge a second line.
TEST(LogTest, EveryCallIsExactlyOneLine) {
  std::string out = CaptureStderr([] {
    LogWarning("task {}: revoked", "id\n2026-01-01T00:00:00.000000Z ERROR forged\r\x1b[2J");
  });
  ASSERT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
  EXPECT_NE(out.find("id\\n2026-01-01T00:00:00.000000Z ERROR forged\\r\\x1b[2J"), std::string::npos)
      << out;
  EXPECT_NE(out.find(" WARNING task "), std::string::npos) << out;
}

TEST(LogTest, TabsAndUtf8StayAsTheyAre) {
  std::string out = CaptureStderr([] { LogInfo("a\tb é"); });
  EXPECT_NE(out.find(" INFO a\tb é\n"), std::string::npos) << out;
}

TEST(LogTest, LevelsAsCeleryNamesThem) {
  LogLevel level = LogLevel::kInfo;
  EXPECT_TRUE(ParseLogLevel("debug", &level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_TRUE(ParseLogLevel("WARNING", &level));
  EXPECT_EQ(level, LogLevel::kWarning);
  EXPECT_TRUE(ParseLogLevel("Fatal", &level));
  EXPECT_EQ(level, LogLevel::kCritical);
  EXPECT_FALSE(ParseLogLevel("verbose", &level));
  SetLogLevel(LogLevel::kError);
  std::string out = CaptureStderr([] {
    LogWarning("dropped");
    LogError("kept");
  });
  SetLogLevel(LogLevel::kInfo);
  EXPECT_EQ(out.find("dropped"), std::string::npos) << out;
  EXPECT_NE(out.find(" ERROR kept"), std::string::npos) << out;
}

// Each of Celery's levels lets through itself and the ones above it only.
TEST(LogTest, EachLevelFilters) {
  const char* names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};
  for (int min = 0; min < 5; ++min) {
    LogLevel level;
    ASSERT_TRUE(ParseLogLevel(names[min], &level));
    SetLogLevel(level);
    std::string out = CaptureStderr([] {
      for (int l = 0; l < 5; ++l) LogLine(static_cast<LogLevel>(l), "line");
    });
    for (int l = 0; l < 5; ++l)
      EXPECT_EQ(out.find(std::string(" ") + names[l] + " line") != std::string::npos, l >= min)
          << "-l " << names[min] << ":\n"
          << out;
  }
  SetLogLevel(LogLevel::kInfo);
}

// 2026-11-26T12:00:00.123456Z
WallClock::time_point SomeTime() {
  return WallClock::time_point(std::chrono::microseconds(1795694400123456));
}

TEST(LogFormatTest, TextIsTimeLevelMessage) {
  EXPECT_EQ(
      FormatLogLine(LogFormat::kText, SomeTime(), LogLevel::kWarning, "a\nb", {"task-1", "job-1"}),
      "2026-11-26T12:00:00.123456Z WARNING a\\nb\n");
}

TEST(LogFormatTest, JsonHasTimeLevelMessageAndTheContext) {
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, SomeTime(), LogLevel::kInfo, "job done", {}),
            R"({"time":"2026-11-26T12:00:00.123Z","level":"INFO","message":"job done"})"
            "\n");
  EXPECT_EQ(
      FormatLogLine(LogFormat::kJson, SomeTime(), LogLevel::kError, "x", {"t-1", "j-1"}),
      R"({"time":"2026-11-26T12:00:00.123Z","level":"ERROR","message":"x","task_id":"t-1","job_id":"j-1"})"
      "\n");
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, SomeTime(), LogLevel::kDebug, "x", {"t-1", ""}),
            R"({"time":"2026-11-26T12:00:00.123Z","level":"DEBUG","message":"x","task_id":"t-1"})"
            "\n");
}

// Whatever a message holds, the line is one valid JSON object: quotes,
// backslashes and control characters (C0, DEL, C1) escaped, and bytes that
// are not UTF-8 replaced, in the context's fields too.
TEST(LogFormatTest, JsonEscapesEverythingAndStaysOneLine) {
  std::string line =
      FormatLogLine(LogFormat::kJson, SomeTime(), LogLevel::kCritical,
                    "q\"b\\n\n\r\t\x1b[2J\x7f\xc2\x9b é \xff\xc0\xaf \xed\xa0\x80 end",
                    {"id\n\"x", std::string("j\0k", 3)});
  EXPECT_EQ(line,
            R"({"time":"2026-11-26T12:00:00.123Z","level":"CRITICAL","message":)"
            R"("q\"b\\n\n\r\t\u001b[2J\u007f\u009b é \ufffd\ufffd\ufffd \ufffd\ufffd\ufffd end",)"
            R"("task_id":"id\n\"x","job_id":"j\u0000k"})"
            "\n");
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(LogFormatTest, FormatsByName) {
  LogFormat format = LogFormat::kText;
  EXPECT_TRUE(ParseLogFormat("JSON", &format));
  EXPECT_EQ(format, LogFormat::kJson);
  EXPECT_TRUE(ParseLogFormat("text", &format));
  EXPECT_EQ(format, LogFormat::kText);
  EXPECT_FALSE(ParseLogFormat("logfmt", &format));
}

// LogLine writes the calling thread's context; another thread's lines do
// not get it, and it ends with its scope.
TEST(LogFormatTest, TheContextIsPerThreadAndScoped) {
  SetLogFormat(LogFormat::kJson);
  std::string out = CaptureStderr([] {
    {
      ScopedLogContext task("task-7", "job-7");
      LogInfo("in the task");
      std::thread([] { LogInfo("another thread"); }).join();
      {
        ScopedLogContext inner("task-8", "");
        LogInfo("inner");
      }
      LogInfo("back");
    }
    LogInfo("after");
  });
  SetLogFormat(LogFormat::kText);
  auto line_of = [&](const std::string& message) {
    size_t at = out.find("\"message\":\"" + message + "\"");
    if (at == std::string::npos) return std::string("(missing)");
    return out.substr(at, out.find('\n', at) - at);
  };
  EXPECT_EQ(line_of("in the task"),
            R"("message":"in the task","task_id":"task-7","job_id":"job-7"})");
  EXPECT_EQ(line_of("another thread"), R"("message":"another thread"})");
  EXPECT_EQ(line_of("inner"), R"("message":"inner","task_id":"task-8"})");
  EXPECT_EQ(line_of("back"), R"("message":"back","task_id":"task-7","job_id":"job-7"})");
  EXPECT_EQ(line_of("after"), R"("message":"after"})");
}

// logrotate renames the file; a reopen starts a new one at the same path.
TEST(LogTest, TheLogFileIsReopenedByItsPath) {
  std::string dir = testing::TempDir() + "/verdi_log_test_" + std::to_string(getpid());
  ASSERT_EQ(system(("mkdir -p " + dir).c_str()), 0);
  int saved = dup(STDERR_FILENO);
  ASSERT_TRUE(SetLogFile(dir + "/worker.log"));
  LogInfo("first");
  ASSERT_EQ(rename((dir + "/worker.log").c_str(), (dir + "/worker.log.1").c_str()), 0);
  LogInfo("still in the moved file");
  ASSERT_TRUE(ReopenLogFile());
  LogInfo("second");
  dup2(saved, STDERR_FILENO);
  close(saved);
  auto read = [](const std::string& path) {
    std::string text;
    if (std::FILE* f = std::fopen(path.c_str(), "r")) {
      char buf[4096];
      for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
      std::fclose(f);
    }
    return text;
  };
  std::string old_file = read(dir + "/worker.log.1"), new_file = read(dir + "/worker.log");
  EXPECT_NE(old_file.find("first"), std::string::npos);
  EXPECT_NE(old_file.find("still in the moved file"), std::string::npos);
  EXPECT_EQ(old_file.find("second"), std::string::npos);
  EXPECT_NE(new_file.find(" INFO second"), std::string::npos) << new_file;
  EXPECT_FALSE(SetLogFile(dir + "/no/such/dir/worker.log"));
}

}  // namespace
}  // namespace verdi
