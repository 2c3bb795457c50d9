// S3 and s3s against tests/s3_server.py (s3rver behind a SigV4 check), and
// the pieces under it: credentials, BUCKET_PROFILES, listings.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "localize/aws_credentials.h"
#include "localize/cache.h"
#include "localize/fetch.h"
#include "localize/object_list.h"
#include "localize/s3_list.h"
#include "localize/test_server.h"
#include "localize/transfer.h"
#include "localize/url.h"
#include "tests/test_files.h"

namespace verdi::localize {
namespace {
namespace fs = std::filesystem;

// The values tests/s3_server.py starts its server with.
const char* kKey = "VERDITESTKEY";
const char* kSecret = "verdi-test-secret-7f3a";
const char* kToken = "verdi-test-session-token";
const char* kPlainKey = "VERDIPLAINKEY";  // a long-term key: no token
const char* kPlainSecret = "verdi-plain-secret-51c0";

using test_files::Read;
using test_files::Write;

// Every AWS_* variable a test may set, cleared around each test; the
// credentials and config files point into the test's dir.
class AwsEnv {
 public:
  explicit AwsEnv(const fs::path& dir) {
    for (const char* n : kNames) unsetenv(n);
    setenv("AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").c_str(), 1);
    setenv("AWS_CONFIG_FILE", (dir / "config").c_str(), 1);
  }
  ~AwsEnv() {
    for (const char* n : kNames) unsetenv(n);
  }
  static void UseTestKeys(bool token = true) {
    setenv("AWS_ACCESS_KEY_ID", kKey, 1);
    setenv("AWS_SECRET_ACCESS_KEY", kSecret, 1);
    if (token) setenv("AWS_SESSION_TOKEN", kToken, 1);
  }

 private:
  static constexpr const char* kNames[] = {"AWS_ACCESS_KEY_ID",
                                           "AWS_SECRET_ACCESS_KEY",
                                           "AWS_SESSION_TOKEN",
                                           "AWS_PROFILE",
                                           "AWS_REGION",
                                           "AWS_DEFAULT_REGION",
                                           "AWS_SHARED_CREDENTIALS_FILE",
                                           "AWS_CONFIG_FILE"};
};

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_s3_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    env_ = std::make_unique<AwsEnv>(dir_);
  }
  void TearDown() override {
    env_.reset();
    fs::remove_all(dir_);
  }
  fs::path dir_;
  std::unique_ptr<AwsEnv> env_;
};

using AwsCredentialsTest = TempDirTest;

TEST_F(AwsCredentialsTest, EnvironmentFirstThenProfiles) {
  Write(dir_ / "credentials",
        "[default]\naws_access_key_id = DEFKEY\naws_secret_access_key = defsecret\n"
        "# comment\n[archive]\naws_access_key_id=ARCHKEY\naws_secret_access_key=archsecret\n"
        "aws_session_token = archtoken\n");
  Write(dir_ / "config", "[default]\nregion = eu-west-1\n[profile archive]\nregion = us-west-2\n");
  AwsCredentials c;
  ASSERT_TRUE(LoadAwsCredentials("", &c).ok());
  EXPECT_EQ(c.access_key_id, "DEFKEY");
  EXPECT_EQ(c.secret_access_key, "defsecret");
  EXPECT_EQ(c.region, "eu-west-1");
  EXPECT_EQ(c.source.find("defsecret"), std::string::npos);
  ASSERT_TRUE(LoadAwsCredentials("archive", &c).ok());
  EXPECT_EQ(c.access_key_id, "ARCHKEY");
  EXPECT_EQ(c.session_token, "archtoken");
  EXPECT_EQ(c.region, "us-west-2");
  setenv("AWS_PROFILE", "archive", 1);
  ASSERT_TRUE(LoadAwsCredentials("", &c).ok());
  EXPECT_EQ(c.access_key_id, "ARCHKEY");
  AwsEnv::UseTestKeys();
  setenv("AWS_DEFAULT_REGION", "ap-south-1", 1);
  ASSERT_TRUE(LoadAwsCredentials("", &c).ok());
  EXPECT_EQ(c.access_key_id, kKey);
  EXPECT_EQ(c.session_token, kToken);
  EXPECT_EQ(c.region, "ap-south-1");
  setenv("AWS_REGION", "ca-central-1", 1);
  ASSERT_TRUE(LoadAwsCredentials("", &c).ok());
  EXPECT_EQ(c.region, "ca-central-1");
  // An explicit profile ignores the environment's keys.
  ASSERT_TRUE(LoadAwsCredentials("archive", &c).ok());
  EXPECT_EQ(c.access_key_id, "ARCHKEY");
  Status st = LoadAwsCredentials("nope", &c);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_NE(st.message().find("'nope'"), std::string::npos) << st.message();
}

TEST_F(AwsCredentialsTest, NothingFoundMeansUnsigned) {
  AwsCredentials c;
  ASSERT_TRUE(LoadAwsCredentials("", &c).ok());
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.region, "us-east-1");
}

TEST(S3PiecesTest, RegionOfEndpoint) {
  EXPECT_EQ(RegionOfEndpoint("s3.us-west-2.amazonaws.com"), "us-west-2");
  EXPECT_EQ(RegionOfEndpoint("s3-us-gov-west-1.amazonaws.com"), "us-gov-west-1");
  EXPECT_EQ(RegionOfEndpoint("s3.amazonaws.com"), "");
  EXPECT_EQ(RegionOfEndpoint("127.0.0.1:9000"), "");
}

TEST(S3PiecesTest, BucketProfiles) {
  std::vector<BucketProfile> profiles = {{"archive", {"s3://[^/]+/archive-.*", "ftp://"}},
                                         {"fallback", {}}};
  std::string p;
  ASSERT_TRUE(BucketProfileFor("s3://h:9000/archive-2024/k", profiles, &p).ok());
  EXPECT_EQ(p, "archive");
  ASSERT_TRUE(BucketProfileFor("s3://h:9000/other/k", profiles, &p).ok());
  EXPECT_EQ(p, "fallback");
  ASSERT_TRUE(BucketProfileFor("s3://h/x", {{"only", {"nomatch"}}}, &p).ok());
  EXPECT_EQ(p, "");
  Status st = BucketProfileFor("s3://h/x", {{"bad", {"("}}}, &p);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_NE(st.message().find("bad"), std::string::npos);
}

TEST(S3PiecesTest, S3Urls) {
  Url u;
  ASSERT_TRUE(ParseUrl("s3://127.0.0.1:9000/bucket/dir/a%20b.txt", &u).ok());
  EXPECT_TRUE(u.IsS3());
  EXPECT_EQ(u.bucket, "bucket");
  EXPECT_EQ(u.key, "dir/a%20b.txt");
  EXPECT_EQ(u.Basename(), "a b.txt");
  EXPECT_EQ(u.TransferUrl(), "http://127.0.0.1:9000/bucket/dir/a%20b.txt");
  ASSERT_TRUE(ParseUrl("s3s://AK:SK@s3.us-west-2.amazonaws.com/b/p/", &u).ok());
  EXPECT_EQ(u.scheme, Scheme::kS3s);
  EXPECT_EQ(u.key, "p/");
  EXPECT_EQ(u.TransferUrl(), "https://s3.us-west-2.amazonaws.com/b/p/");
  EXPECT_EQ(u.Redacted(), "s3s://AK:***@s3.us-west-2.amazonaws.com/b/p/");
  ASSERT_TRUE(ParseUrl("s3://h/b", &u).ok());
  EXPECT_EQ(u.key, "");
  EXPECT_TRUE(ParseUrl("s3://h/", &u).IsInvalid());
  EXPECT_EQ(EncodeS3Key("d/a b+c~ü"), "d/a%20b%2Bc~%C3%BC");
}

TEST(S3PiecesTest, ParsesListings) {
  S3ListPage page;
  ASSERT_TRUE(
      ParseListObjectsV2("<?xml version=\"1.0\"?><ListBucketResult xmlns=\"x\"><Name>b</Name>"
                         "<IsTruncated>true</IsTruncated><Contents><Key>d/a&amp;b.txt</Key>"
                         "<Size>3</Size></Contents><Contents><Key>d/&#x3C;c&gt;</Key></Contents>"
                         "<NextContinuationToken>t+1/=</NextContinuationToken></ListBucketResult>",
                         &page)
          .ok());
  EXPECT_EQ(page.keys, (std::vector<std::string>{"d/a&b.txt", "d/<c>"}));
  EXPECT_TRUE(page.truncated);
  EXPECT_EQ(page.next_token, "t+1/=");
  EXPECT_TRUE(ParseListObjectsV2("<Error><Code>AccessDenied</Code></Error>", &page).IsInvalid());
  EXPECT_TRUE(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                 "</ListBucketResult>",
                                 &page)
                  .IsInvalid());
  EXPECT_TRUE(ParseListObjectsV2("<ListBucketResult><Contents><Size>1</Size></Contents>"
                                 "</ListBucketResult>",
                                 &page)
                  .IsInvalid());
  EXPECT_EQ(ListObjectsQuery("a b/", "t+1/=", 5),
            "continuation-token=t%2B1%2F%3D&list-type=2&max-keys=5&prefix=a%20b%2F");
}

// Against the real server: plain (s3://) and TLS (s3s://).
class S3Test : public TempDirTest {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/verdi_s3seed_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    seed_ = tmpl;
    Write(seed_ / "priv/in/a.txt", "private a\n");
    Write(seed_ / "priv/tree/x.txt", "x\n");
    Write(seed_ / "priv/tree/sub/y.txt", "yy\n");
    Write(seed_ / "priv/tree/sub/deeper/z.txt", "zzz\n");
    for (int i = 0; i < 7; ++i) Write(seed_ / ("priv/many/f" + std::to_string(i)), "f\n");
    Write(seed_ / "pub/open.txt", "public\n");
    server_ = new TestServer();
    std::string port = server_->Start("s3_server.py", {"--seed", seed_.string()});
    ASSERT_FALSE(port.empty()) << "tests/s3_server.py did not start (node/npm, s3rver: see "
                                  "tests/s3/package.json)";
    endpoint_ = "127.0.0.1:" + port;
    tls_ = new TestServer();
    std::string ca = (seed_ / "ca.pem").string();
    port = tls_->Start("s3_server.py", {"--tls", ca, "--seed", seed_.string()});
    ASSERT_FALSE(port.empty()) << "tests/s3_server.py --tls did not start";
    tls_endpoint_ = "127.0.0.1:" + port;
  }
  static void TearDownTestSuite() {
    delete server_;
    delete tls_;
    fs::remove_all(seed_);
  }
  void SetUp() override {
    TempDirTest::SetUp();
    opts_.backoff_seconds = 0.05;
    opts_.tries = 3;
    opts_.log = [this](const std::string& line) { log_ += line + "\n"; };
    opts_.progress = [this](const std::string& line) { log_ += line + "\n"; };
  }
  std::string S3(const std::string& bucket_key) { return "s3://" + endpoint_ + "/" + bucket_key; }
  std::string Requests() { return Read(server_->dir() / "s3server/requests.log"); }

  static inline TestServer* server_ = nullptr;
  static inline TestServer* tls_ = nullptr;
  static inline fs::path seed_;
  static inline std::string endpoint_, tls_endpoint_;
  FetchOptions opts_;
  std::string log_;
  std::vector<FetchResult> results_;
};

TEST_F(S3Test, SignedGetOfAPrivateObject) {
  AwsEnv::UseTestKeys();
  Status st = FetchAll({{S3("priv/in/a.txt"), dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "a.txt"), "private a\n");
  EXPECT_EQ(results_[0].bytes, 10u);
  EXPECT_NE(Requests().find("GET /priv/in/a.txt signed"), std::string::npos) << Requests();
  EXPECT_NE(log_.find("finished " + S3("priv/in/a.txt") + ": 10 B in "), std::string::npos) << log_;
}

TEST_F(S3Test, WrongSecretMissingTokenAndNoCredentialsFailAtOnce) {
  AwsEnv::UseTestKeys();
  setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
  opts_.backoff_seconds = 5;  // a retry would show in the time taken
  auto t0 = std::chrono::steady_clock::now();
  Status st = FetchAll({{S3("priv/in/a.txt"), dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("403"), std::string::npos) << st.message();
  EXPECT_EQ(results_[0].tries, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_NE(Requests().find("denied SignatureDoesNotMatch"), std::string::npos) << Requests();
  EXPECT_EQ(st.message().find("not-the-secret"), std::string::npos);
  EXPECT_EQ(log_.find("not-the-secret"), std::string::npos);

  AwsEnv::UseTestKeys(/*token=*/false);
  unsetenv("AWS_SESSION_TOKEN");
  EXPECT_FALSE(FetchAll({{S3("priv/in/a.txt"), dir_ / "a.txt"}}, opts_, &results_).ok());
  EXPECT_NE(Requests().find("denied InvalidToken"), std::string::npos) << Requests();

  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  EXPECT_FALSE(FetchAll({{S3("priv/in/a.txt"), dir_ / "a.txt"}}, opts_, &results_).ok());
  EXPECT_NE(Requests().find("GET /priv/in/a.txt denied AccessDenied"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "a.txt"));
  // A public bucket takes unsigned requests.
  st = FetchAll({{S3("pub/open.txt"), dir_ / "open.txt"}}, opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "open.txt"), "public\n");
}

TEST_F(S3Test, WrongRegionFails) {
  AwsEnv::UseTestKeys();
  setenv("AWS_REGION", "eu-north-1", 1);
  Status st = FetchAll({{S3("priv/in/a.txt"), dir_ / "a.txt"}}, opts_, &results_);
  EXPECT_FALSE(st.ok());
}

TEST_F(S3Test, MissingKeyFailsFastAsNotFound) {
  AwsEnv::UseTestKeys();
  opts_.backoff_seconds = 5;
  auto t0 = std::chrono::steady_clock::now();
  Status st = FetchAll({{S3("priv/in/none.txt"), dir_ / "none.txt"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_NE(st.message().find("404"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("priv/in/none.txt"), std::string::npos) << st.message();
  EXPECT_TRUE(st.IsNotFound()) << st.message();
  EXPECT_FALSE(fs::exists(dir_ / "none.txt"));
}

TEST_F(S3Test, PrefixesAreFetchedRecursively) {
  AwsEnv::UseTestKeys();
  // With the trailing '/', and without (404 first, then listed).
  Status st =
      FetchAll({{S3("priv/tree/"), dir_ / "t1"}, {S3("priv/tree"), dir_ / "t2"}}, opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  for (const char* t : {"t1", "t2"}) {
    EXPECT_EQ(Read(dir_ / t / "x.txt"), "x\n");
    EXPECT_EQ(Read(dir_ / t / "sub/y.txt"), "yy\n");
    EXPECT_EQ(Read(dir_ / t / "sub/deeper/z.txt"), "zzz\n");
  }
  EXPECT_EQ(results_[0].bytes, 9u);
  EXPECT_EQ(results_[1].bytes, 9u);
  // Through the cache: the entry holds the directory, the job a link to it.
  st = LocalizeAll({{S3("priv/tree/"), dir_ / "job/tree", true}}, dir_ / "cache", opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(fs::is_symlink(dir_ / "job/tree"));
  EXPECT_EQ(Read(dir_ / "job/tree/sub/deeper/z.txt"), "zzz\n");
  // An empty prefix is not found.
  st = FetchAll({{S3("priv/nothing/"), dir_ / "n"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no objects"), std::string::npos) << st.message();
  EXPECT_TRUE(st.IsNotFound()) << st.message();
}

TEST_F(S3Test, ListingPagesAreFollowed) {
  AwsEnv::UseTestKeys();
  Url u;
  ASSERT_TRUE(ParseUrl(S3("priv/many/"), &u).ok());
  std::vector<std::string> keys;
  Status st = ListPrefix(u, "many/", opts_.transfer, 1, &keys, /*max_keys=*/3);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(keys.size(), 7u);
  size_t pages = 0;
  std::string req = Requests();
  for (size_t p = 0; (p = req.find("max-keys=3", p)) != std::string::npos; ++p) ++pages;
  EXPECT_EQ(pages, 3u) << req;
}

TEST(S3PiecesTest, KeysCannotEscapeTheDestination) {
  // s3rver stores keys as files, so it cannot hold "a/../b": checked here.
  std::filesystem::path rel;
  EXPECT_TRUE(RelativeObjectPath("p/a/b.txt", "p/", &rel));
  EXPECT_EQ(rel, "a/b.txt");
  for (const char* bad : {"p/../x", "p/a/../../x", "p/./x", "p/a//x", "p/..", "p/"})
    EXPECT_FALSE(RelativeObjectPath(bad, "p/", &rel)) << bad;
  EXPECT_FALSE(RelativeObjectPath("q/x", "p/", &rel));
}

TEST_F(S3Test, BucketProfilesPickTheCredentials) {
  Write(dir_ / "credentials",
        std::string("[default]\naws_access_key_id = OTHER\naws_secret_access_key = other\n") +
            "[s3test]\naws_access_key_id = " + kKey + "\naws_secret_access_key = " + kSecret +
            "\naws_session_token = " + kToken + "\n");
  opts_.transfer.bucket_profiles = {{"s3test", {"/priv/in/"}}};
  Status st = FetchAll({{S3("priv/in/a.txt"), dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  // The default profile's keys are wrong for the server.
  st = FetchAll({{S3("priv/tree/x.txt"), dir_ / "x.txt"}}, opts_, &results_);
  EXPECT_FALSE(st.ok());
  opts_.transfer.bucket_profiles = {{"missing", {}}};
  st = FetchAll({{S3("priv/in/a.txt"), dir_ / "b.txt"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'missing'"), std::string::npos) << st.message();
}

TEST_F(S3Test, CredentialsInTheUrlAreUsedAndNeverPrinted) {
  std::string url =
      "s3://" + std::string(kPlainKey) + ":" + kPlainSecret + "@" + endpoint_ + "/priv/in/a.txt";
  Status st = FetchAll({{url, dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "a.txt"), "private a\n");
  url = "s3://" + std::string(kPlainKey) + ":hunter2@" + endpoint_ + "/priv/in/a.txt";
  st = FetchAll({{url, dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().find("hunter2"), std::string::npos) << st.message();
  EXPECT_EQ(log_.find("hunter2"), std::string::npos) << log_;
  EXPECT_NE(st.message().find("s3://" + std::string(kPlainKey) + ":***@"), std::string::npos)
      << st.message();
}

TEST_F(S3Test, S3sVerifiesTlsUnlessTheHostIsRelaxed) {
  AwsEnv::UseTestKeys();
  std::string url = "s3s://" + tls_endpoint_ + "/priv/in/a.txt";
  // The server's certificate comes from a throwaway CA: verification fails.
  Status st = FetchAll({{url, dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("certificate"), std::string::npos) << st.message();
  opts_.transfer.insecure_hosts = {"127.0.0.1"};
  st = FetchAll({{url, dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "a.txt"), "private a\n");
  EXPECT_NE(Read(tls_->dir() / "s3server/requests.log").find("GET /priv/in/a.txt signed"),
            std::string::npos);
}

}  // namespace
}  // namespace verdi::localize
