// The file helpers: exact modes whatever the umask, new files written once.
#include "base/files.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace verdi {
namespace {

namespace fs = std::filesystem;

class FilesTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("files-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  mode_t ModeOf(const fs::path& p) {
    struct stat st;
    EXPECT_EQ(stat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  std::string Read(const fs::path& p) {
    std::string s;
    EXPECT_TRUE(ReadFileToString(p.string(), &s).ok());
    return s;
  }
  fs::path dir_;
};

TEST_F(FilesTest, NewFileHasItsContentAndExactMode) {
  ASSERT_TRUE(WriteNewFile((dir_ / "_run.sh").string(), "#!/bin/sh\n", 0755).ok());
  EXPECT_EQ(Read(dir_ / "_run.sh"), "#!/bin/sh\n");
  EXPECT_EQ(ModeOf(dir_ / "_run.sh"), 0755u);
  // Never over an existing file: it is for files nobody else has made.
  Status st = WriteNewFile((dir_ / "_run.sh").string(), "other", 0644);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(Read(dir_ / "_run.sh"), "#!/bin/sh\n");
}

TEST_F(FilesTest, AtomicWriteReplacesAndLeavesNoTemporaryFile) {
  ASSERT_TRUE(WriteFileAtomic((dir_ / "_job.json").string(), "one", 0644).ok());
  ASSERT_TRUE(WriteFileAtomic((dir_ / "_job.json").string(), "two", 0600).ok());
  EXPECT_EQ(Read(dir_ / "_job.json"), "two");
  EXPECT_EQ(ModeOf(dir_ / "_job.json"), 0600u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(FilesTest, ModesAreExactWhateverTheUmaskOfTheProcess) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    SetUmask(077);
    bool ok = WriteNewFile((dir_ / "a").string(), "x", 0755).ok() && ModeOf(dir_ / "a") == 0755 &&
              WriteFileAtomic((dir_ / "b").string(), "x", 0644).ok() && ModeOf(dir_ / "b") == 0644;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(FilesTest, CanonicalPathIsWhatTheStandardLibrarySays) {
  fs::create_directories(dir_ / "a" / "b");
  fs::create_directory_symlink(dir_ / "a", dir_ / "link");
  for (const fs::path& p :
       {dir_ / "a" / "b", dir_ / "link" / "b", dir_ / "a" / ".." / "a", dir_ / "link"}) {
    std::error_code ec;
    EXPECT_EQ(CanonicalPath(p, ec), fs::canonical(p)) << p;
    EXPECT_FALSE(ec);
  }
  std::error_code ec;
  EXPECT_TRUE(CanonicalPath(dir_ / "missing", ec).empty());
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
}

}  // namespace
}  // namespace verdi
