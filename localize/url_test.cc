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

}  // namespace
}  // namespace verdi::localize
