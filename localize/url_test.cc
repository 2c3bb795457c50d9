#include "localize/url.h"

#include <gtest/gtest.h>

namespace verdi::localize {
namespace {

TEST(UrlTest, ParsesSchemes) {
  Url u;
  ASSERT_TRUE(ParseUrl("/data/in/a.txt", &u).ok());
  EXPECT_EQ(u.scheme, Scheme::kFile);
  EXPECT_EQ(u.path, "/data/in/a.txt");
  EXPECT_EQ(u.Basename(), "a.txt");
  ASSERT_TRUE(ParseUrl("file:///data/in/my%20dir/", &u).ok());
  EXPECT_EQ(u.path, "/data/in/my dir/");
  EXPECT_EQ(u.Basename(), "my dir");
  ASSERT_TRUE(ParseUrl("https://host:8443/a/b.h5?x=1", &u).ok());
  EXPECT_EQ(u.scheme, Scheme::kHttps);
  EXPECT_EQ(u.host, "host:8443");
  EXPECT_EQ(u.Basename(), "b.h5");
  ASSERT_TRUE(ParseUrl("ftp://u:p%40ss@ftp.example.com/pub/f.gz", &u).ok());
  EXPECT_EQ(u.scheme, Scheme::kFtp);
  EXPECT_EQ(u.user, "u");
  EXPECT_EQ(u.password, "p@ss");
  EXPECT_EQ(u.host, "ftp.example.com");
  ASSERT_TRUE(ParseUrl("HTTP://h", &u).ok());
  EXPECT_EQ(u.path, "/");
  EXPECT_EQ(u.Basename(), "");
}

TEST(UrlTest, RejectsBadUrls) {
  Url u;
  EXPECT_TRUE(ParseUrl("", &u).IsInvalid());
  EXPECT_TRUE(ParseUrl("relative/path", &u).IsInvalid());
  EXPECT_TRUE(ParseUrl("file://otherhost/x", &u).IsInvalid());
  EXPECT_TRUE(ParseUrl("http:///x", &u).IsInvalid());
  Status st = ParseUrl("gopher://user:hunter2@h/x", &u);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message().find("hunter2"), std::string::npos) << st.message();
}

TEST(UrlTest, RedactsCredentials) {
  Url u;
  ASSERT_TRUE(ParseUrl("http://a:b@c/d", &u).ok());
  EXPECT_EQ(u.Redacted(), "http://a:***@c/d");
  ASSERT_TRUE(ParseUrl("ftp://anon@h/a", &u).ok());
  EXPECT_EQ(u.Redacted(), "ftp://***@h/a");
}

TEST(UrlTest, DavIsHttpByAnotherName) {
  Url u;
  ASSERT_TRUE(ParseUrl("dav://u:pw@h:8085/repo/a.h5", &u).ok());
  EXPECT_EQ(u.scheme, Scheme::kDav);
  EXPECT_TRUE(u.IsHttp());
  EXPECT_FALSE(u.IsObjectStore());
  EXPECT_EQ(u.TransferUrl(), "http://u:pw@h:8085/repo/a.h5");
  EXPECT_EQ(u.Redacted(), "dav://u:***@h:8085/repo/a.h5");
  EXPECT_EQ(u.origin, "dav://u:pw@h:8085");
  ASSERT_TRUE(ParseUrl("DAVS://h/x/", &u).ok());
  EXPECT_EQ(u.scheme, Scheme::kDavs);
  EXPECT_EQ(u.TransferUrl(), "https://h/x/");
}

TEST(UrlTest, GsUrls) {
  Url u;
  ASSERT_TRUE(ParseUrl("gs://my-bucket/dir/a%20b.nc", &u).ok());
  EXPECT_TRUE(u.IsGs());
  EXPECT_TRUE(u.IsS3());  // S3's API
  EXPECT_EQ(u.bucket, "my-bucket");
  EXPECT_EQ(u.key, "dir/a%20b.nc");
  EXPECT_EQ(u.Basename(), "a b.nc");
  EXPECT_FALSE(u.IsPrefix());
  EXPECT_EQ(u.TransferUrl(), "https://storage.googleapis.com/my-bucket/dir/a%20b.nc");
  EXPECT_EQ(u.ObjectUrl("dir/c"), "gs://my-bucket/dir/c");
  EXPECT_EQ(u.BucketUrl("list-type=2"), "gs://my-bucket?list-type=2");
  ASSERT_TRUE(ParseUrl("gs://ID:SECRET@b/p/", &u).ok());
  EXPECT_TRUE(u.IsPrefix());
  EXPECT_EQ(u.user, "ID");
  EXPECT_EQ(u.TransferUrl(), "https://storage.googleapis.com/b/p/");
  EXPECT_EQ(u.ObjectUrl("p/x"), "gs://ID:SECRET@b/p/x");
  EXPECT_EQ(u.Redacted(), "gs://ID:***@b/p/");
  ASSERT_TRUE(ParseUrl("gs://b", &u).ok());
  EXPECT_TRUE(u.IsPrefix());
  EXPECT_EQ(u.key, "");
  // osaka's form: the endpoint as the host.
  ASSERT_TRUE(ParseUrl("gs://storage.googleapis.com/b/k.txt", &u).ok());
  EXPECT_EQ(u.bucket, "b");
  EXPECT_EQ(u.key, "k.txt");
  EXPECT_EQ(u.ObjectUrl("j"), "gs://storage.googleapis.com/b/j");
  EXPECT_TRUE(ParseUrl("gs://storage.googleapis.com/", &u).IsInvalid());
}

TEST(UrlTest, AzureUrls) {
  Url u;
  const std::string sas = "sv=2021-08-06&ss=b&sp=rl&sig=abc%2B%3D";
  ASSERT_TRUE(ParseUrl("azures://acct.blob.core.windows.net/cont/dir/b.h5?" + sas, &u).ok());
  EXPECT_TRUE(u.IsAzure());
  EXPECT_FALSE(u.IsS3());
  EXPECT_EQ(u.account, "acct");
  EXPECT_EQ(u.bucket, "cont");
  EXPECT_EQ(u.key, "dir/b.h5");
  EXPECT_EQ(u.query, sas);
  EXPECT_EQ(u.Basename(), "b.h5");
  EXPECT_EQ(u.Endpoint(), "https://acct.blob.core.windows.net");
  EXPECT_EQ(u.TransferUrl(), "https://acct.blob.core.windows.net/cont/dir/b.h5?" + sas);
  EXPECT_EQ(u.Redacted(),
            "azures://acct.blob.core.windows.net/cont/dir/b.h5?sv=2021-08-06&ss=b&sp=rl&sig=***");
  // A SAS token goes with every blob of a prefix, and with its listing.
  EXPECT_EQ(u.ObjectUrl("dir/c"), "azures://acct.blob.core.windows.net/cont/dir/c?" + sas);
  EXPECT_EQ(u.BucketUrl("restype=container&comp=list"),
            "azures://acct.blob.core.windows.net/cont?restype=container&comp=list&" + sas);
  // An emulator (an address as the host): the account is in the path.
  ASSERT_TRUE(ParseUrl("azure://127.0.0.1:10000/devstoreaccount1/c/d/", &u).ok());
  EXPECT_EQ(u.account, "devstoreaccount1");
  EXPECT_EQ(u.bucket, "c");
  EXPECT_EQ(u.key, "d/");
  EXPECT_TRUE(u.IsPrefix());
  EXPECT_EQ(u.Endpoint(), "http://127.0.0.1:10000/devstoreaccount1");
  EXPECT_EQ(u.ObjectUrl("d/e"), "azure://127.0.0.1:10000/devstoreaccount1/c/d/e");
  ASSERT_TRUE(ParseUrl("azure://acct:KEY@localhost:1/a/c/b", &u).ok());
  EXPECT_EQ(u.account, "a");
  EXPECT_EQ(u.TransferUrl(), "http://localhost:1/a/c/b");  // never the key
  EXPECT_TRUE(ParseUrl("azure://acct.blob.core.windows.net/", &u).IsInvalid());
  EXPECT_TRUE(ParseUrl("azure://127.0.0.1:10000/devstoreaccount1", &u).IsInvalid());
  Status st = ParseUrl("azure://127.0.0.1:10000//c/b?sig=topsecret", &u);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message().find("topsecret"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace verdi::localize
