#include "verdi/workdir/job_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "base/files.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

class JobFilesTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi-jobfiles-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    dir_ = tmp_ / "job";
    fs::create_directories(dir_ / "prod");
    std::ofstream(tmp_ / "host") << "host secret\n";
  }
  void TearDown() override { fs::remove_all(tmp_); }
  std::string Host() {
    std::string s;
    EXPECT_TRUE(ReadFileToString((tmp_ / "host").string(), &s).ok());
    return s;
  }
  fs::path tmp_, dir_;
};

TEST_F(JobFilesTest, ReadsAndAppendsRegularFiles) {
  std::ofstream(dir_ / "prod/a.json") << "{}";
  std::string s;
  ASSERT_TRUE(ReadJobFile(dir_, "prod/a.json", 10, &s).ok());
  EXPECT_EQ(s, "{}");
  ASSERT_TRUE(AppendJobFile(dir_, "_stderr.txt", "one\n").ok());
  ASSERT_TRUE(AppendJobFile(dir_, "_stderr.txt", "two\n").ok());
  ASSERT_TRUE(ReadJobFile(dir_, "_stderr.txt", 100, &s).ok());
  EXPECT_EQ(s, "one\ntwo\n");
}

TEST_F(JobFilesTest, ALinkTheJobMadeIsNeverFollowed) {
  fs::create_symlink(tmp_ / "host", dir_ / "_context.json");
  fs::create_symlink(tmp_ / "host", dir_ / "_stderr.txt");
  fs::create_directory_symlink(tmp_, dir_ / "up");
  std::string s;
  Status st = ReadJobFile(dir_, "_context.json", 100, &s);
  EXPECT_TRUE(st.IsInvalid()) << st.message();
  EXPECT_NE(st.message().find("a link the job made"), std::string::npos) << st.message();
  EXPECT_TRUE(ReadJobFile(dir_, "up/host", 100, &s).IsInvalid());
  EXPECT_FALSE(ReadJobFile(dir_, "../host", 100, &s).ok());
  EXPECT_TRUE(AppendJobFile(dir_, "_stderr.txt", "note\n").IsInvalid());
  EXPECT_FALSE(AppendJobFile(dir_, "up/host", "note\n").ok());
  EXPECT_EQ(Host(), "host secret\n");
}

TEST_F(JobFilesTest, AFifoDoesNotBlockAndIsRefused) {
  ASSERT_EQ(mkfifo((dir_ / "_context.json").c_str(), 0644), 0);
  std::string s;
  Status st = ReadJobFile(dir_, "_context.json", 100, &s);
  EXPECT_TRUE(st.IsInvalid()) << st.message();
  EXPECT_FALSE(AppendJobFile(dir_, "_context.json", "x").ok());
}

TEST_F(JobFilesTest, ABigFileIsRefusedAtTheLimit) {
  std::ofstream(dir_ / "big") << std::string(1000, 'x');
  std::string s;
  Status st = ReadJobFile(dir_, "big", 999, &s);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_NE(st.message().find("larger than 999 bytes"), std::string::npos) << st.message();
  EXPECT_TRUE(ReadJobFile(dir_, "big", 1000, &s).ok());
}

TEST_F(JobFilesTest, AJobDirSwappedForALinkIsRefused) {
  fs::rename(dir_, tmp_ / "moved");
  fs::create_directory_symlink(tmp_, dir_);
  std::string s;
  Status st = ReadJobFile(dir_, "host", 100, &s);
  EXPECT_TRUE(st.IsInvalid()) << st.message();
  EXPECT_NE(st.message().find("no longer a directory"), std::string::npos) << st.message();
  EXPECT_FALSE(AppendJobFile(dir_, "host", "x").ok());
  EXPECT_EQ(Host(), "host secret\n");
}

}  // namespace
}  // namespace verdi
