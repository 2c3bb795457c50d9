#include "verdi/cli/config_file.h"

#include <gtest/gtest.h>

namespace verdi {
namespace {

std::map<std::string, Json> Parse(const std::string& text, Status* st = nullptr,
                                  const std::vector<std::string>& required = {}) {
  std::map<std::string, Json> settings;
  Status s = ParseConfigText(text, "celeryconfig.py", required, &settings);
  if (st != nullptr) *st = s;
  return settings;
}

TEST(ConfigFileTest, ReadsPlainAssignmentsOfACeleryconfig) {
  auto s = Parse(R"(# HySDS's celeryconfig.py
from __future__ import absolute_import
broker_url = "amqp://guest:guest@mozart:5672//"
result_backend = 'redis://mozart:6379/0'  # a comment
task_acks_late = True
worker_prefetch_multiplier = 1
result_expires = 86400
WEBDAV_URL = None
HARD_TIME_LIMIT_GAP = 300.5
PYMONITOREDRUNNER_CFG = {
    "rabbitmq": {"hostname": "x", "port": 5671},
    "StreamObserverFileWriter": {"stdout_filepath": "_stdout.txt"},
}
ROOT_WORK_DIR = "/data/work"
if ROOT_WORK_DIR == "x":
    broker_url = "never"
)");
  EXPECT_EQ(s["broker_url"], "amqp://guest:guest@mozart:5672//");
  EXPECT_EQ(s["result_backend"], "redis://mozart:6379/0");
  EXPECT_EQ(s["task_acks_late"], true);
  EXPECT_EQ(s["worker_prefetch_multiplier"], 1);
  EXPECT_EQ(s["result_expires"], 86400);
  EXPECT_TRUE(s["WEBDAV_URL"].is_null());
  EXPECT_EQ(s["HARD_TIME_LIMIT_GAP"], 300.5);
  EXPECT_EQ(s["ROOT_WORK_DIR"], "/data/work");
  // Multi-line values and nested statements are passed over.
  EXPECT_EQ(s.count("PYMONITOREDRUNNER_CFG"), 0u);
  EXPECT_EQ(s.count("rabbitmq"), 0u);
}

TEST(ConfigFileTest, ANonLiteralValueOfAKeyWeReadIsAnErrorWithItsLine) {
  Status st;
  Parse("x = 1\nbroker_url = os.environ['BROKER']\n", &st, {"broker_url"});
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(),
            "celeryconfig.py:2: broker_url: expected a plain value (a string, number, True, False "
            "or None), got \"os.environ['BROKER']\"");
  // The same for a key nobody reads is fine.
  Parse("other = compute()\n", &st, {"broker_url"});
  EXPECT_TRUE(st.ok());
}

TEST(ConfigFileTest, JsonFilesWork) {
  Status st;
  auto s = Parse(R"({"broker_url": "amqp://h//", "task_acks_late": false})", &st);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(s["broker_url"], "amqp://h//");
  EXPECT_EQ(s["task_acks_late"], false);
  Parse(R"({"broker_url": )", &st);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message().rfind("celeryconfig.py: invalid JSON", 0), 0u) << st.message();
}

TEST(ConfigFileTest, EscapesAndQuotesInStrings) {
  auto s = Parse("a = 'it\\'s'\nb = \"x#y\"  # not part of it\nc = 'a' 'b'\n");
  EXPECT_EQ(s["a"], "it's");
  EXPECT_EQ(s["b"], "x#y");
  EXPECT_EQ(s.count("c"), 0u);  // implicit concatenation is not a plain literal
}

}  // namespace
}  // namespace verdi
