#include "base/log.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

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
