#include "verdi/cli/config_keys.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "verdi/cli/broker_flags.h"

namespace verdi {
namespace {

std::optional<std::string> NoEnv(const std::string&) { return std::nullopt; }

struct Applied {
  WorkerFlags flags;
  SettingSources sources;
  std::vector<std::string> warnings;
  Status status;
};

// `args` on the command line, then `text` as the config file.
void Apply(const std::string& text, std::vector<std::string> args, Applied* a, CLI::App* app) {
  AddWorkerFlags(app, &a->flags);
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  app->parse(args);
  ConfigFile file;
  a->status = ParseConfigText(text, "celeryconfig.py", NoEnv, &file);
  if (a->status.ok()) a->status = ApplyConfigFile(file, app, &a->flags, &a->sources, &a->warnings);
}

TEST(ConfigKeysTest, FileFillsWhatNoFlagGaveAndSaysWhereFrom) {
  CLI::App app;
  Applied a;
  Apply(R"(BROKER_URL = "amqp://file//"
CELERYD_PREFETCH_MULTIPLIER = 4
CELERY_ACKS_LATE = False
BROKER_USE_SSL = {"ca_certs": "/ca.pem", "cert_reqs": 0, "ciphers": "HIGH"}
WORKER_MOUNT_BLACKLIST = ["/dev", "/etc"]
BUCKET_PROFILES = [{"profile": "p", "bucket_patterns": ["^b$"]}]
CACHE_READ_ONLY = False
CONTAINER_ENGINE = "podman"
CELERY_TASK_RESULT_EXPIRES = None
ADMINS = (("a", "b"),)
)",
        {"--prefetch-multiplier", "2"}, &a, &app);
  ASSERT_TRUE(a.status.ok()) << a.status.message();
  const WorkerFlags& f = a.flags;
  EXPECT_EQ(f.broker.url, "amqp://file//");
  EXPECT_EQ(f.broker.Url(), "amqps://file//");  // broker_use_ssl
  EXPECT_EQ(f.broker.ca, "/ca.pem");
  EXPECT_TRUE(f.broker.no_verify);  // ssl.CERT_NONE
  EXPECT_EQ(f.prefetch_multiplier, 2);
  EXPECT_TRUE(f.acks_early);
  EXPECT_EQ(f.pipeline.mount_blacklist, "/dev /etc");
  EXPECT_EQ(Json::parse(f.pipeline.bucket_profiles)[0]["profile"], "p");
  EXPECT_FALSE(f.pipeline.cache_read_only);
  EXPECT_EQ(f.pipeline.container_engine, "podman");
  EXPECT_EQ(a.sources.Of(app.get_option("--broker")), "file celeryconfig.py:1:14: BROKER_URL");
  EXPECT_EQ(a.sources.Of(app.get_option("--prefetch-multiplier")), "flag");
  EXPECT_EQ(a.sources.Of(app.get_option("--shutdown-timeout")), "default");
  EXPECT_EQ(a.warnings, (std::vector<std::string>{
                            "celeryconfig.py:4:18: BROKER_USE_SSL['ciphers']: not used by verdi "
                            "(OpenSSL's defaults apply)",
                            "celeryconfig.py:10:10: ADMINS: not used by verdi"}));
}

TEST(ConfigKeysTest, AValueAUsedKeyCannotTakeIsAnErrorNamingIt) {
  CLI::App app;
  Applied a;
  Apply("worker_concurrency = 'many'\n", {}, &a, &app);
  EXPECT_TRUE(a.status.IsInvalid());
  EXPECT_NE(a.status.message().find("celeryconfig.py:1:22: worker_concurrency: "),
            std::string::npos)
      << a.status.message();
  CLI::App app2;
  Applied b;
  Apply("task_acks_late = 'yes'\n", {}, &b, &app2);
  EXPECT_EQ(b.status.message(),
            "celeryconfig.py:1:18: task_acks_late: expected True or False, got \"yes\"");
}

TEST(ConfigKeysTest, BrokerUrlGetsTheHeartbeatAndTimeoutItLacks) {
  BrokerFlags b;
  b.url = "amqp://h//";
  b.heartbeat = 300;
  b.connection_timeout = 60;
  EXPECT_EQ(b.Url(), "amqp://h//?heartbeat=300&connection_timeout=60");
  b.url = "amqp://h//?heartbeat=10";
  EXPECT_EQ(b.Url(), "amqp://h//?heartbeat=10&connection_timeout=60");
}

}  // namespace
}  // namespace verdi
