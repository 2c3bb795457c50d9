#include "localize/upload.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "localize/test_server.h"
#include "tests/nginx_test_server.h"
#include "tests/redis_server.h"
#include "tests/test_files.h"

namespace verdi::localize {
namespace {
namespace fs = std::filesystem;

using test_files::Read;
using test_files::Write;

class UploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_upload_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    opts_.backoff_seconds = 0.05;
    Write(dir_ / "src/a.txt", "alpha\n");
    Write(dir_ / "src/b.txt", "beta\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  UploadOptions opts_;
};

TEST(JoinUrl, EncodesSegmentsOfNetworkUrlsOnly) {
  EXPECT_EQ(JoinUrl("http://h/a/", "x y/z.txt"), "http://h/a/x%20y/z.txt");
  EXPECT_EQ(JoinUrl("file:///a", "x y/z.txt"), "file:///a/x y/z.txt");
  EXPECT_EQ(JoinUrl("/a", "z.txt"), "/a/z.txt");
  // A file URL's path is percent-decoded: a '%' in a name must stay one.
  EXPECT_EQ(JoinUrl("file:///a", "%2e%2e%2fx/100%"), "file:///a/%252e%252e%252fx/100%25");
  Url url;
  ASSERT_TRUE(ParseUrl(JoinUrl("file:///a", "%2e%2e%2f%2e%2e%2fx"), &url).ok());
  EXPECT_EQ(url.path, "/a/%2e%2e%2f%2e%2e%2fx");
}

TEST_F(UploadTest, FileNoClobberKeepsTheFirstAndLeavesNoTemporaryFile) {
  Uploader up(opts_);
  std::string url = "file://" + (dir_ / "dest/p/a.txt").string();
  bool existed = true;
  ASSERT_TRUE(up.Put(dir_ / "src/a.txt", url, true, &existed).ok());
  EXPECT_FALSE(existed);
  ASSERT_TRUE(up.Put(dir_ / "src/b.txt", url, true, &existed).ok());
  EXPECT_TRUE(existed);
  EXPECT_EQ(Read(dir_ / "dest/p/a.txt"), "alpha\n");
  ASSERT_TRUE(up.Put(dir_ / "src/b.txt", url, false, nullptr).ok());
  EXPECT_EQ(Read(dir_ / "dest/p/a.txt"), "beta\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "dest/p"), fs::directory_iterator()), 1);
  std::string body;
  ASSERT_TRUE(up.Read(url, &body).ok());
  EXPECT_EQ(body, "beta\n");
  ASSERT_TRUE(up.Remove("file://" + (dir_ / "dest/p").string()).ok());
  EXPECT_FALSE(fs::exists(dir_ / "dest/p"));
  bool exists = true;
  ASSERT_TRUE(up.Exists(url, &exists).ok());
  EXPECT_FALSE(exists);
}

TEST_F(UploadTest, FileIntoAPlaceThatIsAFileFailsNamingIt) {
  Write(dir_ / "blocker", "x");
  Uploader up(opts_);
  Status st = up.Put(dir_ / "src/a.txt", (dir_ / "blocker/a.txt").string(), true, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("blocker"), std::string::npos) << st.message();
}

TEST_F(UploadTest, WebDavPutHeadGetDelete) {
  testing::NginxServer nginx;
  ASSERT_FALSE(nginx.url().empty()) << "nginx did not start: " << Read(nginx.dir() / "error.log");
  Uploader up(opts_);
  std::string base = nginx.url() + "/products/v1/p1";
  bool existed = true;
  ASSERT_TRUE(up.Put(dir_ / "src/a.txt", JoinUrl(base, "sub dir/a.txt"), true, &existed).ok());
  EXPECT_FALSE(existed);
  EXPECT_EQ(Read(nginx.root() / "products/v1/p1/sub dir/a.txt"), "alpha\n");
  // dav:// is WebDAV over http.
  std::string dav = "dav://" + JoinUrl(base, "sub dir/a.txt").substr(7);
  ASSERT_TRUE(up.Put(dir_ / "src/b.txt", dav, true, &existed).ok());
  EXPECT_TRUE(existed);
  std::string body;
  ASSERT_TRUE(up.Read(dav, &body).ok());
  EXPECT_EQ(body, "alpha\n");
  ASSERT_TRUE(up.Remove(base).ok());
  EXPECT_FALSE(fs::exists(nginx.root() / "products/v1/p1"));
  bool exists = true;
  ASSERT_TRUE(up.Exists(JoinUrl(base, "sub dir/a.txt"), &exists).ok());
  EXPECT_FALSE(exists);
  ASSERT_TRUE(up.Remove(base).ok()) << "a missing target is no error";
}

TEST_F(UploadTest, WebDavRefusalFailsAtOnceNamingTheUrl) {
  testing::NginxServer nginx({"_denied"});
  ASSERT_FALSE(nginx.url().empty());
  Uploader up(opts_);
  Status st = up.Put(dir_ / "src/a.txt", nginx.url() + "/x/p_denied/a.txt", false, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("403"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("/x/p_denied/a.txt"), std::string::npos) << st.message();
}

TEST_F(UploadTest, UnreachableServerIsRetriedThenFails) {
  std::string log;
  opts_.log = [&](const std::string& line) { log += line + "\n"; };
  opts_.tries = 2;
  Uploader up(opts_);
  int port = testing::FreePort();
  Status st =
      up.Put(dir_ / "src/a.txt", fmt::format("http://127.0.0.1:{}/a.txt", port), false, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("after 2 tries"), std::string::npos) << st.message();
  EXPECT_NE(log.find("try 2 of 2"), std::string::npos) << log;
}

// tests/s3_server.py (s3rver behind a SigV4 check): its "priv" bucket takes
// only requests signed with its test key.
TEST_F(UploadTest, S3SignedPutHeadGetAndRemoveOfAPrefix) {
  TestServer server;
  std::string port = server.Start("s3_server.py", {});
  ASSERT_FALSE(port.empty()) << "tests/s3_server.py did not start (node/npm, s3rver)";
  setenv("AWS_ACCESS_KEY_ID", "VERDITESTKEY", 1);  // the values s3_server.py checks
  setenv("AWS_SECRET_ACCESS_KEY", "verdi-test-secret-7f3a", 1);
  setenv("AWS_SESSION_TOKEN", "verdi-test-session-token", 1);
  std::string base = "s3://127.0.0.1:" + port + "/priv/products/p1";
  Uploader up(opts_);
  bool existed = true;
  Status st = up.Put(dir_ / "src/a.txt", JoinUrl(base, "a.txt"), true, &existed);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(existed);
  ASSERT_TRUE(up.Put(dir_ / "src/b.txt", JoinUrl(base, "sub dir/b.txt"), true, &existed).ok());
  ASSERT_TRUE(up.Put(dir_ / "src/b.txt", JoinUrl(base, "a.txt"), true, &existed).ok());
  EXPECT_TRUE(existed) << "no-clobber keeps the first";
  std::string body;
  ASSERT_TRUE(up.Read(JoinUrl(base, "a.txt"), &body).ok());
  EXPECT_EQ(body, "alpha\n");
  st = up.Remove(base);
  ASSERT_TRUE(st.ok()) << st.message();
  bool exists = true;
  ASSERT_TRUE(up.Exists(JoinUrl(base, "sub dir/b.txt"), &exists).ok());
  EXPECT_FALSE(exists);
  ASSERT_TRUE(up.Exists(JoinUrl(base, "a.txt"), &exists).ok());
  EXPECT_FALSE(exists);
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  unsetenv("AWS_SESSION_TOKEN");
  // Unsigned requests to the private bucket are refused, and say so.
  st = up.Put(dir_ / "src/a.txt", JoinUrl(base, "c.txt"), false, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("403"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace verdi::localize
