#include "verdi/cli/config_file.h"

#include <gtest/gtest.h>

#include "verdi/cli/celery_setting_names.h"

namespace verdi {
namespace {

std::optional<std::string> NoEnv(const std::string&) { return std::nullopt; }

ConfigFile Parse(const std::string& text, Status* st = nullptr) {
  ConfigFile file;
  Status s = ParseConfigText(text, "celeryconfig.py", NoEnv, &file);
  if (st != nullptr)
    *st = s;
  else
    EXPECT_TRUE(s.ok()) << s.message();
  return file;
}

TEST(ConfigFileTest, ReadsACeleryconfigWithItsPositions) {
  auto f = Parse(R"(# HySDS's celeryconfig.py
broker_url = "amqp://guest:guest@mozart:5672//"
task_acks_late = True
WORKER_CONTIGUOUS_FAILURE_TIME = 5.
WORKER_MOUNT_BLACKLIST = [
    "/dev",
]
)");
  EXPECT_EQ(f.entries.at("broker_url").value, "amqp://guest:guest@mozart:5672//");
  EXPECT_EQ(f.entries.at("task_acks_late").value, true);
  EXPECT_EQ(f.entries.at("WORKER_CONTIGUOUS_FAILURE_TIME").value, 5.0);
  EXPECT_EQ(f.entries.at("WORKER_MOUNT_BLACKLIST").value, Json({"/dev"}));
  EXPECT_EQ(f.Where("WORKER_CONTIGUOUS_FAILURE_TIME"),
            "celeryconfig.py:4:34: WORKER_CONTIGUOUS_FAILURE_TIME");
}

TEST(ConfigFileTest, OldCeleryNamesAreReadUnderTheirNewNames) {
  auto f = Parse(R"(BROKER_URL = "amqp://h//"
CELERY_RESULT_BACKEND = "redis://h:6379/0"
CELERY_ACKS_LATE = True
CELERYD_PREFETCH_MULTIPLIER = 1
CELERY_QUEUE_MAX_PRIORITY = 10
BROKER_HEARTBEAT = 300
CELERY_TASK_RESULT_EXPIRES = 3600
CELERY_SEND_EVENTS = True
ROOT_WORK_DIR = "/data/work"
)");
  EXPECT_EQ(f.entries.at("broker_url").value, "amqp://h//");
  EXPECT_EQ(f.entries.at("result_backend").value, "redis://h:6379/0");
  EXPECT_EQ(f.entries.at("task_acks_late").value, true);
  EXPECT_EQ(f.entries.at("worker_prefetch_multiplier").value, 1);
  EXPECT_EQ(f.entries.at("task_queue_max_priority").value, 10);
  EXPECT_EQ(f.entries.at("broker_heartbeat").value, 300);
  EXPECT_EQ(f.entries.at("result_expires").value, 3600);
  EXPECT_EQ(f.entries.at("worker_send_task_events").value, true);
  EXPECT_EQ(f.entries.at("ROOT_WORK_DIR").value, "/data/work");
  EXPECT_EQ(f.entries.count("BROKER_URL"), 0u);
  EXPECT_EQ(f.Where("broker_url"), "celeryconfig.py:1:14: BROKER_URL");
}

TEST(ConfigFileTest, MixingOldAndNewNamesIsRefusedAsCeleryRefusesIt) {
  Status st;
  Parse("broker_url = 'amqp://h//'\nresult_backend = 'redis://h'\nCELERY_ACKS_LATE = True\n", &st);
  EXPECT_EQ(st.message(),
            "celeryconfig.py: it mixes Celery's old and new setting names, which Celery refuses: "
            "rename CELERY_ACKS_LATE to task_acks_late (the new format, which most of its names "
            "use)");
  // Both names of one setting: the format's own is read, the other is not.
  auto f = Parse("broker_url = 'amqp://new//'\nBROKER_URL = 'amqp://old//'\n");
  EXPECT_EQ(f.entries.at("broker_url").value, "amqp://new//");
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_EQ(f.notes[0], "2:14: BROKER_URL: not read by Celery, which reads broker_url instead");
}

TEST(ConfigFileTest, CelerysTableIsComplete) {
  EXPECT_EQ(NewCelerySettingName("CELERYD_TASK_SOFT_TIME_LIMIT"), "task_soft_time_limit");
  EXPECT_EQ(NewCelerySettingName("CELERY_QUEUES"), "task_queues");
  EXPECT_EQ(NewCelerySettingName("CELERYD_MAX_TASKS_PER_CHILD"), "worker_max_tasks_per_child");
  EXPECT_EQ(NewCelerySettingName("BROKER_USE_SSL"), "broker_use_ssl");
  EXPECT_EQ(NewCelerySettingName("CELERY_RESULT_DBURI"), "database_url");
  EXPECT_EQ(NewCelerySettingName("ROOT_WORK_DIR"), "");
  EXPECT_TRUE(IsCelerySettingName("worker_concurrency"));
  EXPECT_FALSE(IsCelerySettingName("WORKER_CONCURRENCY"));
}

TEST(ConfigFileTest, JsonFilesWork) {
  Status st;
  auto f = Parse(R"({"broker_url": "amqp://h//", "task_acks_late": false})", &st);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(f.entries.at("broker_url").value, "amqp://h//");
  EXPECT_EQ(f.entries.at("task_acks_late").value, false);
  EXPECT_EQ(f.Where("broker_url"), "celeryconfig.py: broker_url");
  Parse(R"({"broker_url": )", &st);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message().rfind("celeryconfig.py: invalid JSON", 0), 0u) << st.message();
}

}  // namespace
}  // namespace verdi
