#include "base/redact.h"

#include <gtest/gtest.h>

namespace verdi {
namespace {

TEST(RedactUrlsTest, HidesThePasswordAndKeepsTheUser) {
  EXPECT_EQ(RedactUrls("amqp://u:secret@h//"), "amqp://u:***@h//");
  EXPECT_EQ(RedactUrls("amqps://u:s%40cret@[::1]:5671/v?heartbeat=1"),
            "amqps://u:***@[::1]:5671/v?heartbeat=1");
  EXPECT_EQ(RedactUrls("redis://:pw@h:6379/0"), "redis://:***@h:6379/0");
  EXPECT_EQ(RedactUrls("rediss://user:secret@h/0?ssl_cert_reqs=none"),
            "rediss://user:***@h/0?ssl_cert_reqs=none");
  EXPECT_EQ(RedactUrls("https://user:pw@grq:8878/api/v0.1/grq/dataset/index"),
            "https://user:***@grq:8878/api/v0.1/grq/dataset/index");
}

TEST(RedactUrlsTest, HidesAUserWithoutPassword) {
  // Often a token: https://TOKEN@github.com/...
  EXPECT_EQ(RedactUrls("https://ghp_abc@github.com/o/r.git"), "https://***@github.com/o/r.git");
  EXPECT_EQ(RedactUrls("redis://secret@h"), "redis://***@h");
}

TEST(RedactUrlsTest, PasswordsWithSpecialCharacters) {
  EXPECT_EQ(RedactUrls("amqp://u:p@ss@h//"), "amqp://u:***@h//");
  EXPECT_EQ(RedactUrls("amqp://u:se/cret@h//"), "amqp://u:***@h//");
  EXPECT_EQ(RedactUrls("amqp://u:a?b#c@h//"), "amqp://u:***@h//");
  EXPECT_EQ(RedactUrls("amqp://u:se:cret@h//"), "amqp://u:***@h//");
}

TEST(RedactUrlsTest, LeavesTextWithoutCredentialsAlone) {
  for (const char* text :
       {"amqp://u:@h//", "amqp://h:5672//", "https://h/a@b", "redis://h/0?x=a@b", "http://@h/",
        "/plain/path", "not a url", "", "://x:y@z", "1ab://x", "mailto:a@b.c"}) {
    EXPECT_EQ(RedactUrls(text), text);
  }
}

TEST(RedactUrlsTest, EveryUrlInAText) {
  EXPECT_EQ(RedactUrls("amqp://a:one@h1//;amqp://b:two@h2//"),
            "amqp://a:***@h1//;amqp://b:***@h2//");
  EXPECT_EQ(RedactUrls("from redis://:pw@h/0 to 'https://u:pw@w/x' and http://h/y@z"),
            "from redis://:***@h/0 to 'https://u:***@w/x' and http://h/y@z");
  EXPECT_EQ(RedactUrls("--broker=amqp://u:pw@h//"), "--broker=amqp://u:***@h//");
  // A second '@' after white space is not this URL's.
  EXPECT_EQ(RedactUrls("http://h:80/a b@c"), "http://h:80/a b@c");
}

TEST(RedactUrlsTest, HidesSignaturesAndSecretQueryParameters) {
  EXPECT_EQ(
      RedactUrls("azures://acct.blob.core.windows.net/c/b.h5?sv=2021-08-06&sp=r&sig=a%2Bb%3D"),
      "azures://acct.blob.core.windows.net/c/b.h5?sv=2021-08-06&sp=r&sig=***");
  EXPECT_EQ(RedactUrls("https://h/o?X-Amz-Credential=AK%2F1&X-Amz-Signature=abc&X-Amz-Expires=60"),
            "https://h/o?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Expires=60");
  EXPECT_EQ(RedactUrls("https://u:pw@h/o?token=t1&x=1#sig=frag"),
            "https://u:***@h/o?token=***&x=1#sig=frag");
  EXPECT_EQ(RedactUrls("a http://h/x?Signature=s b http://h/y?SIG=t"),
            "a http://h/x?Signature=*** b http://h/y?SIG=***");
  EXPECT_EQ(RedactUrls("{\"url\": \"https://h/o?sig=s\"}"), "{\"url\": \"https://h/o?sig=***\"}");
  // A password holding '?' is no query.
  EXPECT_EQ(RedactUrls("amqp://u:a?sig=b@h//?sig=c"), "amqp://u:***@h//?sig=***");
  for (const char* text : {"https://h/o?sig=", "https://h/o?design=1&signed=2", "https://h/o?sig",
                           "https://h/o#?sig=x"})
    EXPECT_EQ(RedactUrls(text), text);
}

TEST(LooksSecretTest, SecretNames) {
  for (const char* name :
       {"AWS_SECRET_ACCESS_KEY", "API_KEY", "KEY", "MY_API_TOKEN", "GITHUB_TOKEN", "DB_PASSWORD",
        "MYSQLPASSWORD", "PGPASSWD", "DB_PASS", "GOOGLE_APPLICATION_CREDENTIALS", "client_secret",
        "private-key", "SSH_KEY_FILE", "OPENAI_APIKEY", "x.key", "AZURE_STORAGE_CONNECTION_STRING",
        "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_KEY", "GS_SECRET_ACCESS_KEY"}) {
    EXPECT_TRUE(LooksSecret(name)) << name;
  }
}

TEST(LooksSecretTest, OrdinaryNames) {
  for (const char* name : {"PATH", "HOME", "KEYBOARD", "MONKEY", "KEYS", "PASSAGE", "BYPASS",
                           "CELERY_BROKER_URL", "REDIS_URL", "HYSDS_WORKER_CFG", ""}) {
    EXPECT_FALSE(LooksSecret(name)) << name;
  }
}

TEST(RedactEnvTest, SecretNamesHideTheWholeValueOthersTheirUrlCredentials) {
  EXPECT_EQ(RedactEnvValue("MY_API_TOKEN", "topsecret"), "***");
  EXPECT_EQ(RedactEnvValue("AWS_SECRET_ACCESS_KEY", ""), "***");
  EXPECT_EQ(RedactEnvValue("BROKER_URL", "amqp://u:topsecret@h//"), "amqp://u:***@h//");
  EXPECT_EQ(RedactEnvValue("GREETING", "hello"), "hello");
  EXPECT_EQ(RedactEnvEntry("API_KEY=k=v"), "API_KEY=***");
  EXPECT_EQ(RedactEnvEntry("REDIS=redis://:pw@h/0"), "REDIS=redis://:***@h/0");
  EXPECT_EQ(RedactEnvEntry("EMPTY="), "EMPTY=");
  EXPECT_EQ(RedactEnvEntry("no equals sign"), "no equals sign");
}

}  // namespace
}  // namespace verdi
