// gs:// against tests/s3_server.py started as GCS's XML API answers (SigV4
// in the region "auto"), with HMAC keys from the environment, the boto
// config or the URL; and uploads to it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "localize/fetch.h"
#include "localize/gs_credentials.h"
#include "localize/test_server.h"
#include "localize/upload.h"
#include "localize/url.h"
#include "tests/test_files.h"

namespace verdi::localize {
namespace {
namespace fs = std::filesystem;

using test_files::Read;
using test_files::Write;

// A long-term key tests/s3_server.py knows (an HMAC key has no token).
const char* kId = "VERDIPLAINKEY";
const char* kSecret = "verdi-plain-secret-51c0";

// GS_* and BOTO_CONFIG cleared around each test, HOME in the test's dir.
class GsEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_gs_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    const char* home = std::getenv("HOME");
    home_ = home ? home : "";
    Clear();
    setenv("HOME", dir_.c_str(), 1);
  }
  void TearDown() override {
    Clear();
    setenv("HOME", home_.c_str(), 1);
    fs::remove_all(dir_);
  }
  static void Clear() {
    for (const char* n : {"GS_ACCESS_KEY_ID", "GS_SECRET_ACCESS_KEY", "BOTO_CONFIG"}) unsetenv(n);
  }
  static void UseKeys(const char* secret = kSecret) {
    setenv("GS_ACCESS_KEY_ID", kId, 1);
    setenv("GS_SECRET_ACCESS_KEY", secret, 1);
  }
  fs::path dir_;
  std::string home_;
};

using GsCredentialsTest = GsEnvTest;

TEST_F(GsCredentialsTest, EnvironmentThenTheBotoConfig) {
  EXPECT_TRUE(LoadGsCredentials().empty());
  Write(dir_ / ".boto", "[Credentials]\ngs_access_key_id = HOMEID\ngs_secret_access_key = hs\n");
  GsCredentials c = LoadGsCredentials();
  EXPECT_EQ(c.access_id, "HOMEID");
  EXPECT_EQ(c.secret, "hs");
  EXPECT_EQ(c.source, (dir_ / ".boto").string());
  Write(dir_ / "other.cfg",
        "[Boto]\nx = 1\n[Credentials]\ngs_access_key_id=CFGID\n"
        "gs_secret_access_key=cs\n");
  setenv("BOTO_CONFIG", (dir_ / "other.cfg").c_str(), 1);
  EXPECT_EQ(LoadGsCredentials().access_id, "CFGID");
  UseKeys();
  c = LoadGsCredentials();
  EXPECT_EQ(c.access_id, kId);
  EXPECT_EQ(c.source, "GS_ACCESS_KEY_ID");
}

class GsTest : public GsEnvTest {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/verdi_gsseed_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    seed_ = tmpl;
    Write(seed_ / "priv/in/a.txt", "private a\n");
    Write(seed_ / "priv/tree/x.txt", "x\n");
    Write(seed_ / "priv/tree/sub/y.txt", "yy\n");
    server_ = new TestServer();
    std::string port =
        server_->Start("s3_server.py", {"--seed", seed_.string(), "--region", "auto"});
    ASSERT_FALSE(port.empty()) << "tests/s3_server.py did not start (node/npm, s3rver: see "
                                  "tests/s3/package.json)";
    endpoint_ = "http://127.0.0.1:" + port;
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(seed_);
  }
  void SetUp() override {
    GsEnvTest::SetUp();
    opts_.backoff_seconds = 0.05;
    opts_.tries = 3;
    opts_.transfer.gs_endpoint = endpoint_;
    opts_.log = [this](const std::string& line) { log_ += line + "\n"; };
    opts_.progress = [this](const std::string& line) { log_ += line + "\n"; };
  }
  std::string Requests() { return Read(server_->dir() / "s3server/requests.log"); }

  static inline TestServer* server_ = nullptr;
  static inline fs::path seed_;
  static inline std::string endpoint_;
  FetchOptions opts_;
  std::string log_;
  std::vector<FetchResult> results_;
};

TEST_F(GsTest, ObjectsAndPrefixesSignedWithHmacKeys) {
  UseKeys();
  Status st = FetchAll({{"gs://priv/in/a.txt", dir_ / "a.txt"}, {"gs://priv/tree/", dir_ / "t"}},
                       opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "a.txt"), "private a\n");
  EXPECT_EQ(Read(dir_ / "t/sub/y.txt"), "yy\n");
  EXPECT_NE(Requests().find("GET /priv/in/a.txt signed"), std::string::npos) << Requests();
  EXPECT_NE(log_.find("finished gs://priv/in/a.txt: 10 B in "), std::string::npos) << log_;
  // The keys of the boto config, or of the URL (as osaka takes them).
  Clear();
  Write(dir_ / ".boto", std::string("[Credentials]\ngs_access_key_id = ") + kId +
                            "\ngs_secret_access_key = " + kSecret + "\n");
  st = FetchAll({{"gs://priv/tree/x.txt", dir_ / "x.txt"}}, opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  fs::remove(dir_ / ".boto");
  st = FetchAll({{std::string("gs://") + kId + ":" + kSecret + "@priv/in/a.txt", dir_ / "b.txt"}},
                opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(log_.find(kSecret), std::string::npos) << log_;
}

TEST_F(GsTest, AWrongSecretFailsAtOnceSayingWhichKey) {
  UseKeys("not-the-secret");
  opts_.backoff_seconds = 5;
  auto t0 = std::chrono::steady_clock::now();
  Status st = FetchAll({{"gs://priv/in/a.txt", dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(st.message(),
            "downloading gs://priv/in/a.txt: HTTP 403 forbidden (signed with the "
            "keys of GS_ACCESS_KEY_ID)");
  EXPECT_NE(Requests().find("denied SignatureDoesNotMatch"), std::string::npos) << Requests();
  Clear();
  st = FetchAll({{"gs://priv/in/a.txt", dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("anonymous: no credentials found"), std::string::npos)
      << st.message();
}

TEST_F(GsTest, PublishingPutsHeadsReadsAndRemoves) {
  UseKeys();
  UploadOptions up_opts;
  up_opts.backoff_seconds = 0.05;
  up_opts.transfer.gs_endpoint = endpoint_;
  Uploader up(up_opts);
  Write(dir_ / "f.txt", "published\n");
  bool existed = true;
  ASSERT_TRUE(up.Put(dir_ / "f.txt", "gs://priv/out/p1/f.txt", true, &existed).ok());
  EXPECT_FALSE(existed);
  std::string body;
  ASSERT_TRUE(up.Read("gs://priv/out/p1/f.txt", &body).ok());
  EXPECT_EQ(body, "published\n");
  ASSERT_TRUE(up.Remove("gs://priv/out/p1").ok());
  bool exists = true;
  ASSERT_TRUE(up.Exists("gs://priv/out/p1/f.txt", &exists).ok());
  EXPECT_FALSE(exists);
}

}  // namespace
}  // namespace verdi::localize
