// file:// copies through descriptors, on real files, links and FIFOs.
#include "localize/local_copy.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tests/test_files.h"

namespace verdi::localize {
namespace {

namespace fs = std::filesystem;
using test_files::Read;
using test_files::Write;

class LocalCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi-local-copy-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Write(dir_ / "src/tree/a", "A");
    Write(dir_ / "src/tree/deep/b", "BB");
    Write(dir_ / "secret/key", "KEY");
    fs::create_directories(dir_ / "job");
  }
  void TearDown() override { fs::remove_all(dir_); }

  Url U(const fs::path& p) {
    Url u;
    EXPECT_TRUE(ParseUrl("file://" + p.string(), &u).ok());
    return u;
  }
  // Refuses what is under dir_/secret, records every path it saw.
  LocalSourceCheck Check() {
    return [this](const std::string& real) {
      seen_.push_back(real);
      if (real.rfind((dir_ / "secret").string(), 0) == 0)
        return Status::Invalid("a secret of the host");
      return Status::OK();
    };
  }

  fs::path dir_;
  std::vector<std::string> seen_;
};

TEST_F(LocalCopyTest, CopiesFilesAndTreesKeepingModes) {
  chmod((dir_ / "src/tree/a").c_str(), 0640);
  uint64_t bytes = 0;
  Status st = CopyLocalSource(U(dir_ / "src/tree"), dir_ / "job/tree", Check(), &bytes);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(bytes, 3u);
  EXPECT_EQ(Read(dir_ / "job/tree/a"), "A");
  EXPECT_EQ(Read(dir_ / "job/tree/deep/b"), "BB");
  EXPECT_EQ(fs::status(dir_ / "job/tree/a").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_EQ(seen_, (std::vector<std::string>{
                       (dir_ / "src/tree").string(), (dir_ / "src/tree/a").string(),
                       (dir_ / "src/tree/deep").string(), (dir_ / "src/tree/deep/b").string()}));
  st = CopyLocalSource(U(dir_ / "src/none"), dir_ / "job/none", Check(), &bytes);
  EXPECT_TRUE(st.IsNotFound()) << st.message();
}

TEST_F(LocalCopyTest, TheCheckSeesWhereLinksLead) {
  fs::create_symlink(dir_ / "secret/key", dir_ / "src/key-link");
  fs::create_symlink("../../secret", dir_ / "src/tree/up");
  uint64_t bytes = 0;
  Status st = CopyLocalSource(U(dir_ / "src/key-link"), dir_ / "job/k", Check(), &bytes);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_NE(
      st.message().find("refusing " + (dir_ / "secret/key").string() + ": a secret of the host"),
      std::string::npos)
      << st.message();
  EXPECT_FALSE(fs::exists(dir_ / "job/k"));
  // A link inside a directory is checked as well.
  st = CopyLocalSource(U(dir_ / "src/tree"), dir_ / "job/tree", Check(), &bytes);
  EXPECT_NE(st.message().find("refusing " + (dir_ / "secret").string()), std::string::npos)
      << st.message();
  EXPECT_TRUE(CheckLocalSource(U(dir_ / "src/tree"), Check()).IsInvalid());
  // Without a check (a job on the host), links are followed as before.
  fs::remove_all(dir_ / "job/tree");
  st = CopyLocalSource(U(dir_ / "src/tree"), dir_ / "job/tree", nullptr, &bytes);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "job/tree/up/key"), "KEY");
}

TEST_F(LocalCopyTest, WhatWasCheckedIsWhatIsRead) {
  // The link is swapped to the secret right after the check saw the
  // harmless file: the copy still reads the file that was checked.
  fs::create_symlink(dir_ / "src/tree/a", dir_ / "src/swap");
  LocalSourceCheck swap = [this](const std::string& real) {
    if (real == (dir_ / "src/tree/a").string()) {
      fs::remove(dir_ / "src/swap");
      fs::create_symlink(dir_ / "secret/key", dir_ / "src/swap");
    }
    return Check()(real);
  };
  uint64_t bytes = 0;
  Status st = CopyLocalSource(U(dir_ / "src/swap"), dir_ / "job/s", swap, &bytes);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "job/s"), "A");
}

TEST_F(LocalCopyTest, LoopsFifosAndCheckOnly) {
  fs::create_symlink("..", dir_ / "src/tree/deep/loop");
  uint64_t bytes = 0;
  Status st = CopyLocalSource(U(dir_ / "src/tree"), dir_ / "job/tree", nullptr, &bytes);
  EXPECT_NE(st.message().find("a link loop"), std::string::npos) << st.message();
  ASSERT_EQ(mkfifo((dir_ / "src/fifo").c_str(), 0644), 0);
  st = CopyLocalSource(U(dir_ / "src/fifo"), dir_ / "job/fifo", nullptr, &bytes);  // no hang
  EXPECT_NE(st.message().find("neither a regular file nor a directory"), std::string::npos)
      << st.message();
  fs::remove(dir_ / "src/tree/deep/loop");
  EXPECT_TRUE(CheckLocalSource(U(dir_ / "src/tree"), Check()).ok());
  EXPECT_FALSE(fs::exists(dir_ / "job/tree2"));
  EXPECT_TRUE(CheckLocalSource(U(dir_ / "secret"), Check()).IsInvalid());
}

}  // namespace
}  // namespace verdi::localize
