#include "verdi/amqp/url.h"

#include <string>

#include <gtest/gtest.h>

namespace verdi {
namespace {

AmqpUrl Parse(const std::string& url) {
  AmqpUrl out;
  Status st = ParseAmqpUrl(url, &out);
  EXPECT_TRUE(st.ok()) << url << ": " << st.message();
  return out;
}

std::string ParseError(const std::string& url) {
  AmqpUrl out;
  Status st = ParseAmqpUrl(url, &out);
  EXPECT_TRUE(st.IsInvalid()) << url << " was accepted";
  return st.message();
}

TEST(AmqpUrlTest, CeleryDefaultUrl) {
  AmqpUrl u = Parse("amqp://guest:guest@127.0.0.1:5672//");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 5672);
  EXPECT_EQ(u.user, "guest");
  EXPECT_EQ(u.password, "guest");
  EXPECT_EQ(u.vhost, "/");
  EXPECT_EQ(u.heartbeat_seconds, 60);
  EXPECT_EQ(u.connect_timeout_seconds, 10);
}

TEST(AmqpUrlTest, VhostAsKombuReadsIt) {
  EXPECT_EQ(Parse("amqp://h//").vhost, "/");
  EXPECT_EQ(Parse("amqp://h/").vhost, "/");
  EXPECT_EQ(Parse("amqp://h").vhost, "/");
  EXPECT_EQ(Parse("amqp://h/v").vhost, "v");
  EXPECT_EQ(Parse("amqp://h/%2F").vhost, "/");
  EXPECT_EQ(Parse("amqp://h/a%2Fb").vhost, "a/b");
  EXPECT_EQ(Parse("amqp://h///x").vhost, "//x");
  EXPECT_EQ(Parse("amqp://h/v?heartbeat=3").vhost, "v");
  EXPECT_EQ(Parse("amqp://h/v#frag").vhost, "v");
}

TEST(AmqpUrlTest, DefaultsForMissingParts) {
  AmqpUrl u = Parse("amqp://h");
  EXPECT_EQ(u.host, "h");
  EXPECT_EQ(u.port, 5672);
  EXPECT_EQ(u.user, "guest");
  EXPECT_EQ(u.password, "guest");
  EXPECT_EQ(Parse("amqp://").host, "localhost");
  EXPECT_EQ(Parse("amqp:///v").host, "localhost");
  EXPECT_EQ(Parse("amqp:///v").vhost, "v");
  AmqpUrl bob = Parse("amqp://bob@h");
  EXPECT_EQ(bob.user, "bob");
  EXPECT_EQ(bob.password, "guest");
  AmqpUrl empty = Parse("amqp://:@h:");
  EXPECT_EQ(empty.user, "guest");
  EXPECT_EQ(empty.password, "guest");
  EXPECT_EQ(empty.port, 5672);
}

TEST(AmqpUrlTest, TlsScheme) {
  AmqpUrl u = Parse("amqps://u:p@broker.example.com");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.port, 5671);
  EXPECT_EQ(u.host, "broker.example.com");
  EXPECT_EQ(Parse("amqps://h:1234").port, 1234);
  EXPECT_EQ(Parse("AMQPS://h").port, 5671);
  AmqpUrl py = Parse("pyamqp://h:5673/v");
  EXPECT_FALSE(py.tls);
  EXPECT_EQ(py.port, 5673);
}

TEST(AmqpUrlTest, PercentDecoding) {
  AmqpUrl u = Parse("amqp://us%40er:p%3Aa%2Fss%25@h/v%20x");
  EXPECT_EQ(u.user, "us@er");
  EXPECT_EQ(u.password, "p:a/ss%");
  EXPECT_EQ(u.vhost, "v x");
  // As urllib: the last '@' ends the user info, an invalid escape stays as is,
  // '+' is not a space.
  AmqpUrl raw = Parse("amqp://u:p@s%zz+@h//");
  EXPECT_EQ(raw.user, "u");
  EXPECT_EQ(raw.password, "p@s%zz+");
  EXPECT_EQ(raw.host, "h");
}

TEST(AmqpUrlTest, Ipv6Hosts) {
  AmqpUrl u = Parse("amqp://guest:guest@[::1]:5673//");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 5673);
  EXPECT_EQ(Parse("amqp://[fe80::1]").port, 5672);
  EXPECT_EQ(Parse("amqp://[fe80::1]").host, "fe80::1");
}

TEST(AmqpUrlTest, QueryParameters) {
  AmqpUrl u = Parse("amqp://h//?heartbeat=5&connection_timeout=2.5");
  EXPECT_EQ(u.heartbeat_seconds, 5);
  EXPECT_EQ(u.connect_timeout_seconds, 3);
  EXPECT_EQ(Parse("amqp://h//?heartbeat=0").heartbeat_seconds, 0);
  EXPECT_EQ(Parse("amqp://h//?connection_timeout=7").connect_timeout_seconds, 7);
  AmqpUrl other = Parse("amqp://h//?ssl=1&&login_method=AMQPLAIN");
  EXPECT_EQ(other.heartbeat_seconds, 60);
  EXPECT_FALSE(other.tls);
}

TEST(AmqpUrlTest, ErrorsNameTheRedactedUrlAndTheProblem) {
  std::string m = ParseError("amqp://u:secret@h:99999//");
  EXPECT_EQ(m, "amqp://u:***@h:99999//: invalid port \"99999\" (expected 1 to 65535)");
  m = ParseError("amqp://u:secret@h:abc//");
  EXPECT_EQ(m, "amqp://u:***@h:abc//: invalid port \"abc\" (expected 1 to 65535)");
  EXPECT_EQ(ParseError("amqp://h:0"), "amqp://h:0: invalid port \"0\" (expected 1 to 65535)");
  m = ParseError("http://u:secret@h//");
  EXPECT_EQ(m, "http://u:***@h//: unsupported scheme \"http\" (expected amqp or amqps)");
  m = ParseError("localhost:5672");
  EXPECT_EQ(m, "localhost:5672: not a URL: expected amqp://[user[:password]@]host[:port][/vhost]");
  EXPECT_EQ(ParseError("amqp://[::1//"), "amqp://[::1//: unterminated '[' in the host");
  EXPECT_EQ(ParseError("amqp://::1//"),
            "amqp://::1//: host \"::1\" has several ':'; write an IPv6 address as [addr]");
  EXPECT_EQ(ParseError("amqp://[::1]x//"), "amqp://[::1]x//: unexpected \"x\" after the IPv6 host");
  m = ParseError("amqp://u:secret@h//?heartbeat=-1");
  EXPECT_EQ(m,
            "amqp://u:***@h//?heartbeat=-1: heartbeat: expected whole seconds from 0 to 65535, "
            "got \"-1\"");
  EXPECT_NE(ParseError("amqp://h//?heartbeat=1.5").find("heartbeat:"), std::string::npos);
  EXPECT_NE(ParseError("amqp://h//?connection_timeout=0").find("connection_timeout:"),
            std::string::npos);
  EXPECT_NE(ParseError("amqp://h//?connection_timeout=x").find("got \"x\""), std::string::npos);
}

TEST(AmqpUrlTest, FailedParseLeavesOutputUnchanged) {
  AmqpUrl out;
  out.host = "keep";
  EXPECT_FALSE(ParseAmqpUrl("amqp://h:bad", &out).ok());
  EXPECT_EQ(out.host, "keep");
}

}  // namespace
}  // namespace verdi
