#include "base/log.h"

#include <unistd.h>

#include <cstdio>
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

}  // namespace
}  // namespace verdi
