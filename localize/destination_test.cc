#include "localize/destination.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace verdi::localize {
namespace {
namespace fs = std::filesystem;

class DestinationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_dest_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(DestinationTest, Rules) {
  fs::path out;
  ASSERT_TRUE(Destination(dir_, 0, "http://h/a/b.txt", "", &out).ok());
  EXPECT_EQ(out, dir_ / "b.txt");
  ASSERT_TRUE(Destination(dir_, 0, "http://h/a/b.txt", "in/", &out).ok());
  EXPECT_EQ(out, dir_ / "in/b.txt");
  ASSERT_TRUE(Destination(dir_, 0, "http://h/a/b.txt", "in/c.txt", &out).ok());
  EXPECT_EQ(out, dir_ / "in/c.txt");
  fs::create_directory(dir_ / "existing");
  ASSERT_TRUE(Destination(dir_, 0, "file:///x/dir/", "existing", &out).ok());
  EXPECT_EQ(out, dir_ / "existing/dir");
  ASSERT_TRUE(Destination(dir_, 0, "/x/y.dat", "./sub/../z.dat", &out).ok());
  EXPECT_EQ(out, dir_ / "z.dat");
}

TEST_F(DestinationTest, RejectsTraversal) {
  fs::path out;
  Status st = Destination(dir_, 3, "http://h/b.txt", "../b.txt", &out);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_NE(st.message().find("localize_urls[3]"), std::string::npos) << st.message();
  EXPECT_TRUE(Destination(dir_, 0, "http://h/b.txt", "a/../../b", &out).IsInvalid());
  EXPECT_TRUE(Destination(dir_, 0, "http://h/b.txt", "/etc/passwd", &out).IsInvalid());
  EXPECT_TRUE(Destination(dir_, 0, "http://h/..", "", &out).IsInvalid());
  EXPECT_TRUE(Destination(dir_, 0, "http://h/", "", &out).IsInvalid());
  fs::create_directory_symlink("/tmp", dir_ / "link");
  st = Destination(dir_, 1, "http://h/b.txt", "link/b.txt", &out);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_NE(st.message().find("symlink"), std::string::npos) << st.message();
  EXPECT_TRUE(Destination(dir_, 1, "http://h/b.txt", "link", &out).IsInvalid());
  fs::create_symlink("/etc/hostname", dir_ / "b.txt");
  EXPECT_TRUE(Destination(dir_, 1, "http://h/b.txt", "", &out).IsInvalid());
}

}  // namespace
}  // namespace verdi::localize

namespace verdi::localize {
namespace {

TEST(ReservedJobFiles, WorkerFilesAndTheirTemporaryForms) {
  for (const char* name :
       {"_stdout.txt", "_stderr.txt", "_context.json", "_job.json", "_run.sh", "_pid", "_exit_code",
        ".exit_code_hold", ".running", ".done", "_docker_params.json", "_datasets.json",
        "_triaged.json", "_datasets.json.tmp", "_job.json.tmp.12.0", ".extractor-1234",
        ".processor-1234"})
    EXPECT_TRUE(IsReservedJobFile(name)) << name;
  for (const char* name : {"_stdout", "stdout.txt", "_job.jsonx", "data", "_alt_error.txt", ""})
    EXPECT_FALSE(IsReservedJobFile(name)) << name;
}

TEST(ReservedJobFiles, RefusedAsLocalPathOrUrlName) {
  fs::path dir = "/tmp/verdi_dest_reserved_never_created";
  fs::path out;
  Status st = Destination(dir, 2, "http://h/a/in.dat", "_stdout.txt", &out);
  ASSERT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(),
            "localize_urls[2]: '_stdout.txt' (local_path _stdout.txt) is a file the worker "
            "writes in the job dir: refused");
  st = Destination(dir, 0, "http://h/a/_job.json", "", &out);
  EXPECT_NE(st.message().find("'_job.json' (the URL's file name)"), std::string::npos)
      << st.message();
  EXPECT_TRUE(Destination(dir, 0, "http://h/a/x", ".done/", &out).IsInvalid());
  EXPECT_TRUE(Destination(dir, 0, "http://h/a/x", "./_context.json/x", &out).IsInvalid());
  EXPECT_TRUE(Destination(dir, 0, "http://h/a/x", "_datasets.json.tmp", &out).IsInvalid());
  // Below the top they are ordinary names.
  ASSERT_TRUE(Destination(dir, 0, "http://h/a/x", "in/_stdout.txt", &out).ok());
  EXPECT_EQ(out, dir / "in/_stdout.txt");
}

}  // namespace
}  // namespace verdi::localize
