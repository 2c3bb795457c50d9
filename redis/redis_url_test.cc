#include "redis/redis_url.h"

#include <gtest/gtest.h>

namespace verdi {
namespace {

RedisUrl MustParse(const std::string& text) {
  RedisUrl url;
  Status st = ParseRedisUrl(text, &url);
  EXPECT_TRUE(st.ok()) << text << ": " << st.message();
  return url;
}

TEST(RedisUrlTest, DefaultsForABareUrl) {
  RedisUrl url = MustParse("redis://");
  EXPECT_FALSE(url.tls);
  EXPECT_EQ(url.host, "localhost");
  EXPECT_EQ(url.port, 6379);
  EXPECT_EQ(url.db, 0);
  EXPECT_EQ(url.username, "");
  EXPECT_EQ(url.password, "");
  EXPECT_TRUE(url.verify_peer);
}

TEST(RedisUrlTest, HostPortDb) {
  RedisUrl url = MustParse("redis://10.0.0.5:6380/3");
  EXPECT_EQ(url.host, "10.0.0.5");
  EXPECT_EQ(url.port, 6380);
  EXPECT_EQ(url.db, 3);
  EXPECT_EQ(MustParse("redis://h/").db, 0);
  EXPECT_EQ(MustParse("redis://h/7/").db, 7);
  EXPECT_EQ(MustParse("REDIS://h").host, "h");
}

TEST(RedisUrlTest, PasswordOnlyAndUserPassword) {
  RedisUrl url = MustParse("redis://:s3cret@redis.example.org:6379/0");
  EXPECT_EQ(url.username, "");
  EXPECT_EQ(url.password, "s3cret");
  EXPECT_EQ(url.host, "redis.example.org");
  url = MustParse("redis://alice:pw@h");
  EXPECT_EQ(url.username, "alice");
  EXPECT_EQ(url.password, "pw");
  url = MustParse("redis://bob@h");
  EXPECT_EQ(url.username, "bob");
  EXPECT_EQ(url.password, "");
}

TEST(RedisUrlTest, PercentDecodesCredentials) {
  RedisUrl url = MustParse("redis://us%40er:p%3Aa%2Fss%25w@h:1/2");
  EXPECT_EQ(url.username, "us@er");
  EXPECT_EQ(url.password, "p:a/ss%w");
  // An '@' in the password itself: the last '@' ends the user info.
  url = MustParse("redis://:p@ss@h");
  EXPECT_EQ(url.password, "p@ss");
  EXPECT_EQ(url.host, "h");
}

TEST(RedisUrlTest, Ipv6InBrackets) {
  RedisUrl url = MustParse("redis://[::1]:7000/1");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 7000);
  EXPECT_EQ(url.db, 1);
  EXPECT_EQ(MustParse("rediss://[fe80::2]").port, 6379);
}

TEST(RedisUrlTest, TlsAndCertReqs) {
  RedisUrl url = MustParse("rediss://:pw@cache.example.org:6380/0?ssl_cert_reqs=CERT_NONE");
  EXPECT_TRUE(url.tls);
  EXPECT_FALSE(url.verify_peer);
  EXPECT_FALSE(MustParse("rediss://h?ssl_cert_reqs=none").verify_peer);
  EXPECT_TRUE(MustParse("rediss://h?ssl_cert_reqs=required").verify_peer);
  EXPECT_TRUE(MustParse("rediss://h?ssl_cert_reqs=CERT_OPTIONAL").verify_peer);
  EXPECT_TRUE(MustParse("rediss://h").verify_peer);
}

TEST(RedisUrlTest, QueryOptions) {
  RedisUrl url = MustParse(
      "rediss://h/1?ssl_ca_certs=%2Fetc%2Fca.pem&ssl_certfile=/c.pem&ssl_keyfile=/k.pem"
      "&socket_timeout=5&db=4");
  EXPECT_EQ(url.ca_file, "/etc/ca.pem");
  EXPECT_EQ(url.cert_file, "/c.pem");
  EXPECT_EQ(url.key_file, "/k.pem");
  EXPECT_EQ(url.db, 4);  // the query's db wins, as in redis-py
}

TEST(RedisUrlTest, RejectsWithTheUrlRedacted) {
  struct Case {
    const char* url;
    const char* message;
  } cases[] = {
      {"http://:pw@h", "http://:***@h: expected a redis:// or rediss:// URL"},
      {"localhost:6379", "localhost:6379: expected a redis:// or rediss:// URL"},
      {"redis://:pw@h:0", "redis://:***@h:0: bad port '0'"},
      {"redis://:pw@h:65536", "redis://:***@h:65536: bad port '65536'"},
      {"redis://:pw@h:", "redis://:***@h:: bad port ''"},
      {"redis://:pw@h:12x", "redis://:***@h:12x: bad port '12x'"},
      {"redis://:pw@h/x", "redis://:***@h/x: bad database number 'x'"},
      {"redis://:pw@h/-1", "redis://:***@h/-1: bad database number '-1'"},
      {"redis://:pw@h?db=a", "redis://:***@h?db=a: bad database number 'a'"},
      {"redis://:p%zz@h", "redis://:***@h: bad percent escape in the user info"},
      {"redis://::1:6379", "redis://::1:6379: an IPv6 address must be written in brackets"},
      {"redis://[::1", "redis://[::1: unterminated '[' in the host"},
      {"rediss://h?ssl_cert_reqs=maybe",
       "rediss://h?ssl_cert_reqs=maybe: ssl_cert_reqs must be none, optional or required (or "
       "CERT_NONE, ...), got 'maybe'"},
  };
  for (const Case& c : cases) {
    RedisUrl url;
    url.port = 1234;
    Status st = ParseRedisUrl(c.url, &url);
    EXPECT_TRUE(st.IsInvalid()) << c.url;
    EXPECT_EQ(st.message(), c.message);
    EXPECT_EQ(st.message().find("pw"), std::string::npos) << st.message();
    EXPECT_EQ(url.port, 1234) << "output touched on error: " << c.url;
  }
}

}  // namespace
}  // namespace verdi
