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
