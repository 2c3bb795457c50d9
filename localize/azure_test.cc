// azure:// and azures:// against Azurite (tests/azurite_server.py), and the
// pieces under them: Shared Key signing, credentials, listings.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "localize/azure_credentials.h"
#include "localize/azure_list.h"
#include "localize/azure_shared_key.h"
#include "localize/cache.h"
#include "localize/fetch.h"
#include "localize/object_list.h"
#include "localize/test_server.h"
#include "localize/upload.h"
#include "localize/url.h"
#include "tests/test_files.h"

namespace verdi::localize {
namespace {
namespace fs = std::filesystem;

using test_files::Read;
using test_files::Write;

// Azurite's well-known development account.
const char* kAccount = "devstoreaccount1";
const char* kKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
// Another key of the right form, which Azurite does not know.
const char* kWrongKey = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ==";

TEST(AzureSharedKeyTest, StringToSignAsTheDocsShowIt) {
  // Microsoft's example of a 2009-09-19 string to sign: the standard headers
  // empty, the x-ms-* headers, then the resource with its sorted query.
  std::string to_sign = SharedKeyStringToSign("GET", "myaccount", "/myaccount/mycontainer",
                                              "restype=container&comp=metadata&timeout=20",
                                              {{"x-ms-version", "2009-09-19"},
                                               {"X-MS-Date", "Sun, 11 Oct 2009 21:49:13 GMT"},
                                               {"Accept", "*/*"}});
  EXPECT_EQ(to_sign,
            "GET\n\n\n\n\n\n\n\n\n\n\n\n"
            "x-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\nx-ms-version:2009-09-19\n"
            "/myaccount/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20");
  // HMAC-SHA256 with the base64-decoded key, as `openssl dgst -sha256 -mac
  // HMAC` computes it.
  std::string sig;
  ASSERT_TRUE(SharedKeySignature(kKey, to_sign, &sig).ok());
  EXPECT_EQ(sig, "Su5rvibNeMxB7A4I87rOtEgCDtdICsL8v5H+yJs0W+M=");
}

TEST(AzureSharedKeyTest, HeadersAndQueryAreCanonicalized) {
  // The docs' list example: a parameter given more than once is one line,
  // its values sorted; values are decoded; a Content-Length of 0 is empty.
  std::string to_sign = SharedKeyStringToSign(
      "PUT", "acct", "/c/a%20b",
      "restype=container&comp=list&include=snapshots&include=metadata&include=uncommittedblobs&"
      "prefix=a%2Fb+c",
      {{"Content-Length", "0"},
       {"Content-Type", "text/plain"},
       {"Range", "bytes=0-9"},
       {"x-ms-meta-Name", "  two   words "},
       {"x-ms-blob-type", "BlockBlob"}});
  EXPECT_EQ(to_sign,
            "PUT\n\n\n\n\ntext/plain\n\n\n\n\n\nbytes=0-9\n"
            "x-ms-blob-type:BlockBlob\nx-ms-meta-name:two words\n"
            "/acct/c/a%20b\ncomp:list\ninclude:metadata,snapshots,uncommittedblobs\n"
            "prefix:a/b c\nrestype:container");
  EXPECT_NE(
      SharedKeyStringToSign("PUT", "a", "/c", "", {{"Content-Length", "12"}}).find("PUT\n\n\n12\n"),
      std::string::npos);
}

TEST(AzureSharedKeyTest, AKeyThatIsNotBase64IsRefusedUnquoted) {
  std::string sig;
  Status st = SharedKeySignature("not base64!", "x", &sig);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message().find("not base64!"), std::string::npos) << st.message();
  EXPECT_TRUE(SharedKeySignature("", "x", &sig).IsInvalid());
}

TEST(AzureSharedKeyTest, HttpDate) {
  EXPECT_EQ(HttpDate(std::chrono::system_clock::from_time_t(784111777)),
            "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(AzureListTest, ParsesListBlobsAnswers) {
  AzureListPage page;
  ASSERT_TRUE(ParseListBlobs("<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults "
                             "ServiceEndpoint=\"x\" ContainerName=\"c\"><Prefix>d/</Prefix>"
                             "<Blobs><Blob><Name>d/a&amp;b.txt</Name><Properties><Content-Length>3"
                             "</Content-Length></Properties></Blob><Blob><Name>d/&#x3C;c&gt;</Name>"
                             "</Blob></Blobs><NextMarker>m+1/=</NextMarker></EnumerationResults>",
                             &page)
                  .ok());
  EXPECT_EQ(page.names, (std::vector<std::string>{"d/a&b.txt", "d/<c>"}));
  EXPECT_EQ(page.next_marker, "m+1/=");
  ASSERT_TRUE(
      ParseListBlobs("<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>", &page).ok());
  EXPECT_TRUE(page.names.empty());
  EXPECT_EQ(page.next_marker, "");
  EXPECT_TRUE(
      ParseListBlobs("<Error><Code>AuthenticationFailed</Code></Error>", &page).IsInvalid());
  EXPECT_TRUE(
      ParseListBlobs("<EnumerationResults><Blobs><Blob></Blob></Blobs></EnumerationResults>", &page)
          .IsInvalid());
  EXPECT_EQ(ListBlobsQuery("a b/", "m+1/=", 5),
            "restype=container&comp=list&prefix=a%20b%2F&marker=m%2B1%2F%3D&maxresults=5");
  EXPECT_EQ(ListBlobsQuery("", ""), "restype=container&comp=list");
}

// Every AZURE_* variable a test may set, cleared around each test; the CLI's
// config dir is the test's.
class AzureEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_azure_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Clear();
    setenv("AZURE_CONFIG_DIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    Clear();
    fs::remove_all(dir_);
  }
  static void Clear() {
    for (const char* n : {"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT",
                          "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_CONFIG_DIR"})
      unsetenv(n);
  }
  fs::path dir_;
};

using AzureCredentialsTest = AzureEnvTest;

TEST_F(AzureCredentialsTest, ConnectionStringThenVariablesThenTheCliConfig) {
  AzureCredentials c;
  ASSERT_TRUE(LoadAzureCredentials("acct", &c).ok());
  EXPECT_TRUE(c.empty());
  Write(dir_ / "config", "[core]\noutput = json\n[storage]\naccount = acct\nkey = CFGKEY\n");
  ASSERT_TRUE(LoadAzureCredentials("acct", &c).ok());
  EXPECT_EQ(c.key, "CFGKEY");
  EXPECT_EQ(c.source, (dir_ / "config").string());
  ASSERT_TRUE(LoadAzureCredentials("other", &c).ok());
  EXPECT_TRUE(c.empty());  // the config's key is another account's
  setenv("AZURE_STORAGE_SAS_TOKEN", "?sv=1&sig=s", 1);
  ASSERT_TRUE(LoadAzureCredentials("other", &c).ok());
  EXPECT_EQ(c.sas, "sv=1&sig=s");
  EXPECT_EQ(c.key, "");
  EXPECT_EQ(c.source, "AZURE_STORAGE_SAS_TOKEN");
  setenv("AZURE_STORAGE_ACCOUNT", "acct", 1);
  setenv("AZURE_STORAGE_KEY", "ENVKEY", 1);
  ASSERT_TRUE(LoadAzureCredentials("acct", &c).ok());
  EXPECT_EQ(c.key, "ENVKEY");
  EXPECT_EQ(c.source, "AZURE_STORAGE_KEY");
  ASSERT_TRUE(LoadAzureCredentials("other", &c).ok());
  EXPECT_TRUE(c.empty());
  setenv("AZURE_STORAGE_CONNECTION_STRING",
         "DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=CSKEY;"
         "BlobEndpoint=http://127.0.0.1:10000/acct/;",
         1);
  ASSERT_TRUE(LoadAzureCredentials("acct", &c).ok());
  EXPECT_EQ(c.key, "CSKEY");
  EXPECT_EQ(c.blob_endpoint, "http://127.0.0.1:10000/acct");
  EXPECT_EQ(c.source, "AZURE_STORAGE_CONNECTION_STRING");
  setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountName=acct;AccountKey", 1);
  Status st = LoadAzureCredentials("acct", &c);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_NE(st.message().find("AZURE_STORAGE_CONNECTION_STRING"), std::string::npos)
      << st.message();
}

TEST_F(AzureCredentialsTest, TheCliConfigsConnectionString) {
  Write(dir_ / "config",
        "[storage]\nconnection_string = BlobEndpoint=https://x.example/;"
        "SharedAccessSignature=sv=2&sig=q\n");
  AzureCredentials c;
  ASSERT_TRUE(LoadAzureCredentials("any", &c).ok());  // names no account
  EXPECT_EQ(c.sas, "sv=2&sig=q");
  EXPECT_EQ(c.blob_endpoint, "https://x.example");
  EXPECT_EQ(c.source, "the connection string of " + (dir_ / "config").string());
}

// Against Azurite.
class AzuriteTest : public AzureEnvTest {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/verdi_azseed_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    seed_ = tmpl;
    Write(seed_ / "priv/in/a.txt", "private a\n");
    Write(seed_ / "priv/tree/x.txt", "x\n");
    Write(seed_ / "priv/tree/sub/y z.txt", "yy\n");
    Write(seed_ / "priv/tree/sub/deeper/z.txt", "zzz\n");
    for (int i = 0; i < 5; ++i) Write(seed_ / ("priv/many/f" + std::to_string(i)), "f\n");
    server_ = new TestServer();
    std::string port = server_->Start("azurite_server.py", {"--seed", seed_.string()});
    ASSERT_FALSE(port.empty()) << "tests/azurite_server.py did not start (node/npm, azurite: see "
                                  "tests/azurite/package.json)";
    endpoint_ = "127.0.0.1:" + port;
    sas_ = Read(server_->dir() / "port.sas");
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(seed_);
  }
  void SetUp() override {
    AzureEnvTest::SetUp();
    opts_.backoff_seconds = 0.05;
    opts_.tries = 3;
    opts_.log = [this](const std::string& line) { log_ += line + "\n"; };
    opts_.progress = [this](const std::string& line) { log_ += line + "\n"; };
  }
  // A path-style URL of the emulator.
  static std::string Az(const std::string& container_blob) {
    return "azure://" + endpoint_ + "/" + kAccount + "/" + container_blob;
  }
  static void UseKey(const char* key = kKey) {
    setenv("AZURE_STORAGE_ACCOUNT", kAccount, 1);
    setenv("AZURE_STORAGE_KEY", key, 1);
  }

  static inline TestServer* server_ = nullptr;
  static inline fs::path seed_;
  static inline std::string endpoint_, sas_;
  FetchOptions opts_;
  std::string log_;
  std::vector<FetchResult> results_;
};

TEST_F(AzuriteTest, SharedKeySignedGetOfAPrivateBlob) {
  UseKey();
  Status st = FetchAll({{Az("priv/in/a.txt"), dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "a.txt"), "private a\n");
  EXPECT_EQ(results_[0].bytes, 10u);
  EXPECT_NE(log_.find("finished " + Az("priv/in/a.txt") + ": 10 B in "), std::string::npos) << log_;
  EXPECT_EQ(log_.find(kKey), std::string::npos);
}

TEST_F(AzuriteTest, SasTokenInTheUrlOrFromTheEnvironment) {
  std::string url = Az("priv/in/a.txt") + "?" + sas_;
  Status st = FetchAll({{url, dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "a.txt"), "private a\n");
  std::string sig = sas_.substr(sas_.find("sig=") + 4);
  EXPECT_EQ(log_.find(sig), std::string::npos) << log_;
  EXPECT_NE(log_.find("&sig=***"), std::string::npos) << log_;
  setenv("AZURE_STORAGE_SAS_TOKEN", sas_.c_str(), 1);
  st = FetchAll({{Az("priv/tree/x.txt"), dir_ / "x.txt"}}, opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "x.txt"), "x\n");
}

TEST_F(AzuriteTest, AConnectionStringPointsAProductionUrlAtTheEmulator) {
  setenv("AZURE_STORAGE_CONNECTION_STRING",
         ("DefaultEndpointsProtocol=http;AccountName=" + std::string(kAccount) +
          ";AccountKey=" + kKey + ";BlobEndpoint=http://" + endpoint_ + "/" + kAccount + ";")
             .c_str(),
         1);
  std::string url = "azures://" + std::string(kAccount) + ".blob.core.windows.net/priv/in/a.txt";
  Status st = FetchAll({{url, dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "a.txt"), "private a\n");
}

TEST_F(AzuriteTest, AConnectionStringsEndpointServesAUrlWithItsOwnSasToken) {
  setenv("AZURE_STORAGE_CONNECTION_STRING",
         ("AccountName=" + std::string(kAccount) + ";AccountKey=" + kWrongKey +
          ";BlobEndpoint=http://" + endpoint_ + "/" + kAccount)
             .c_str(),
         1);
  std::string url =
      "azures://" + std::string(kAccount) + ".blob.core.windows.net/priv/in/a.txt?" + sas_;
  Status st = FetchAll({{url, dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "a.txt"), "private a\n");
}

TEST_F(AzuriteTest, TheAccountKeyInTheUrlAsOsakaTakesIt) {
  std::string key;
  for (char c : std::string(kKey)) key += c == '/' ? std::string("%2F") : std::string(1, c);
  std::string url = "azure://" + std::string(kAccount) + ":" + key + "@" + endpoint_ + "/" +
                    kAccount + "/priv/in/a.txt";
  Status st = FetchAll({{url, dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "a.txt"), "private a\n");
}

TEST_F(AzuriteTest, PrefixesAreListedPageByPageAndFetched) {
  UseKey();
  Url u;
  ASSERT_TRUE(ParseUrl(Az("priv/many/"), &u).ok());
  std::vector<std::string> keys;
  Status st = ListPrefix(u, "many/", opts_.transfer, 1, &keys, /*page_size=*/2);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(keys.size(), 5u);
  // With the trailing '/', and without (404 first, then listed); with a
  // SAS token in the URL, which each blob's URL keeps.
  unsetenv("AZURE_STORAGE_KEY");
  st = FetchAll(
      {{Az("priv/tree/") + "?" + sas_, dir_ / "t1"}, {Az("priv/tree?") + sas_, dir_ / "t2"}}, opts_,
      &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  for (const char* t : {"t1", "t2"}) {
    EXPECT_EQ(Read(dir_ / t / "x.txt"), "x\n");
    EXPECT_EQ(Read(dir_ / t / "sub/y z.txt"), "yy\n");
    EXPECT_EQ(Read(dir_ / t / "sub/deeper/z.txt"), "zzz\n");
  }
  EXPECT_EQ(results_[0].bytes, 9u);
  // Through the cache, signed with the key.
  UseKey();
  st = LocalizeAll({{Az("priv/tree/"), dir_ / "job/tree", true}}, dir_ / "cache", opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(fs::is_symlink(dir_ / "job/tree"));
  EXPECT_EQ(Read(dir_ / "job/tree/sub/deeper/z.txt"), "zzz\n");
  st = FetchAll({{Az("priv/nothing/"), dir_ / "n"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.IsNotFound()) << st.message();
}

TEST_F(AzuriteTest, AWrongKeyFailsAtOnceSayingWhichKeyAndNeverShowingIt) {
  UseKey(kWrongKey);
  opts_.backoff_seconds = 5;  // a retry would show in the time taken
  auto t0 = std::chrono::steady_clock::now();
  Status st = FetchAll({{Az("priv/in/a.txt"), dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(results_[0].tries, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(st.message(), "downloading " + Az("priv/in/a.txt") +
                              ": HTTP 403 forbidden (signed with the key of AZURE_STORAGE_KEY)");
  EXPECT_FALSE(fs::exists(dir_ / "a.txt"));
  // A listing says it as well.
  st = FetchAll({{Az("priv/tree/"), dir_ / "t"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "listing " + Az("priv/tree/") +
                              ": HTTP 403 AuthorizationFailure (signed with the key of "
                              "AZURE_STORAGE_KEY)");
  // No credentials: a private container refuses.
  Clear();
  st = FetchAll({{Az("priv/in/a.txt"), dir_ / "a.txt"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("anonymous: no credentials found"), std::string::npos)
      << st.message();
  EXPECT_EQ(log_.find(kWrongKey), std::string::npos);
}

TEST_F(AzuriteTest, PublishingToAzureIsRefused) {
  Write(dir_ / "f", "x");
  Uploader up{UploadOptions()};
  Status st = up.Put(dir_ / "f", Az("priv/out/f?") + sas_, false, nullptr);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_NE(st.message().find("not supported"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find(sas_.substr(sas_.find("sig=") + 4)), std::string::npos);
}

}  // namespace
}  // namespace verdi::localize
