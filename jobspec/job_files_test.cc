#include "jobspec/job_files.h"

#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

#include "tests/test_files.h"

namespace verdi {
namespace {
namespace fs = std::filesystem;

using test_files::Read;
using test_files::Write;

// Each case runs with openat2 and with the one-component-at-a-time walk.
class JobFilesTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    internal::ForceComponentWalk(GetParam());
    char tmpl[] = "/tmp/verdi_job_files_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    job_ = base_ / "job";
    host_ = base_ / "host";
    Write(host_ / "secret.json", R"({"secret": "host only"})");
    fs::create_directories(job_);
    ASSERT_TRUE(JobDir::Open(job_, &dir_).ok());
  }
  void TearDown() override {
    internal::ForceComponentWalk(false);
    fs::remove_all(base_);
  }
  fs::path base_, job_, host_;
  JobDir dir_;
};

TEST_P(JobFilesTest, ReadsRegularFilesByRelativeOrAbsolutePath) {
  Write(job_ / "P1/P1.met.json", R"({"a": [1, {"b": 2}]})");
  Json doc;
  ASSERT_TRUE(dir_.ReadJson("P1/P1.met.json", &doc).ok());
  EXPECT_EQ(doc["a"][1]["b"], 2);
  ASSERT_TRUE(dir_.ReadJson(fs::canonical(job_) / "P1/P1.met.json", &doc).ok());
  Status st = dir_.ReadJson("P1/missing.json", &doc);
  EXPECT_TRUE(st.IsNotFound()) << st.message();
  st = dir_.ReadJson("../host/secret.json", &doc);
  EXPECT_TRUE(st.IsInvalid()) << st.message();
}

TEST_P(JobFilesTest, SymlinkToAHostFileIsRefused) {
  fs::create_directories(job_ / "P1");
  fs::create_symlink(host_ / "secret.json", job_ / "P1/P1.met.json");
  Json doc;
  Status st = dir_.ReadJson("P1/P1.met.json", &doc);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("P1/P1.met.json: is or goes through a symlink"), std::string::npos)
      << st.message();
  EXPECT_TRUE(doc.is_null());
  // A link that stays inside the job dir is refused too: nothing is followed.
  Write(job_ / "other.json", "{}");
  fs::create_symlink(job_ / "other.json", job_ / "P1/inside.json");
  EXPECT_FALSE(dir_.ReadJson("P1/inside.json", &doc).ok());
}

TEST_P(JobFilesTest, SymlinkedDirectoryOnTheWayIsRefused) {
  fs::create_directory_symlink(host_, job_ / "P1");
  std::string text;
  Status st = dir_.ReadFile("P1/secret.json", 1000, &text);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("symlink"), std::string::npos) << st.message();
  EXPECT_EQ(text, "");
  // A chain: a link to a link to the host.
  fs::create_directory_symlink(job_ / "P1", job_ / "P2");
  EXPECT_FALSE(dir_.ReadFile("P2/secret.json", 1000, &text).ok());
  EXPECT_EQ(text, "");
}

TEST_P(JobFilesTest, FifoIsRefusedAtOnce) {
  fs::create_directories(job_ / "P1");
  ASSERT_EQ(mkfifo((job_ / "P1/P1.met.json").c_str(), 0644), 0);
  auto start = std::chrono::steady_clock::now();
  Json doc;
  Status st = dir_.ReadJson("P1/P1.met.json", &doc);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("P1/P1.met.json: is a FIFO, not a regular file"), std::string::npos)
      << st.message();
  st = dir_.ReadJson("P1", &doc);
  EXPECT_NE(st.message().find("is a directory"), std::string::npos) << st.message();
}

TEST_P(JobFilesTest, SizeLimit) {
  Write(job_ / "big.json", std::string(2000, ' ') + "{}");
  std::string text;
  Status st = dir_.ReadFile("big.json", 1000, &text);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("larger than the limit of 1000 bytes"), std::string::npos)
      << st.message();
  EXPECT_TRUE(dir_.ReadFile("big.json", 5000, &text).ok());
  EXPECT_EQ(text.size(), 2002u);
}

TEST_P(JobFilesTest, WriteReplacesASymlinkInsteadOfFollowingIt) {
  fs::create_directories(job_ / "P1");
  fs::create_symlink(host_ / "secret.json", job_ / "P1/P1.context.json");
  ASSERT_TRUE(dir_.WriteFile("P1/P1.context.json", R"({"ctx": 1})").ok());
  EXPECT_FALSE(fs::is_symlink(job_ / "P1/P1.context.json"));
  EXPECT_EQ(Read(job_ / "P1/P1.context.json"), R"({"ctx": 1})");
  EXPECT_EQ(Read(host_ / "secret.json"), R"({"secret": "host only"})");
  // Through a symlinked directory: refused, nothing written there.
  fs::create_directory_symlink(host_, job_ / "P2");
  Status st = dir_.WriteFile("P2/P2.met.json", "{}");
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(fs::exists(host_ / "P2.met.json"));
  st = dir_.RemoveFile("P2/secret.json");
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(fs::exists(host_ / "secret.json"));
  EXPECT_TRUE(dir_.RemoveFile("P1/P1.context.json").ok());
  EXPECT_FALSE(fs::exists(job_ / "P1/P1.context.json"));
  EXPECT_TRUE(dir_.RemoveFile("P1/gone").ok());
}

TEST_P(JobFilesTest, AppendsOnlyToARegularFileBeneath) {
  ASSERT_TRUE(dir_.AppendFile("_stderr.txt", "one\n").ok());
  ASSERT_TRUE(dir_.AppendFile("_stderr.txt", "two\n").ok());
  std::string text;
  ASSERT_TRUE(dir_.ReadFile("_stderr.txt", 100, &text).ok());
  EXPECT_EQ(text, "one\ntwo\n");
  fs::create_symlink(host_ / "secret.json", job_ / "linked.txt");
  EXPECT_FALSE(dir_.AppendFile("linked.txt", "note\n").ok());
  ASSERT_EQ(mkfifo((job_ / "fifo").c_str(), 0644), 0);
  Status st = dir_.AppendFile("fifo", "note\n");  // O_NONBLOCK: no reader is no hang
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(dir_.ReadFile(host_ / "secret.json", 100, &text).ok());  // outside the job dir
  std::ifstream in(host_ / "secret.json");
  std::string host((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(host, R"({"secret": "host only"})");
}

TEST_P(JobFilesTest, AJobDirSwappedForALinkIsRefused) {
  fs::rename(job_, base_ / "job.real");
  fs::create_directory_symlink(host_, job_);
  JobDir dir;
  Status st = JobDir::Open(job_, &dir);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(),
            "the job dir " + job_.string() + " is a symlink, not a directory: refused");
}

INSTANTIATE_TEST_SUITE_P(Openat2AndWalk, JobFilesTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Walk" : "Openat2"; });

}  // namespace
}  // namespace verdi
