#include "events/celery_event.h"

#include <cstdlib>
#include <ctime>

#include <gtest/gtest.h>

namespace verdi {
namespace {

TEST(CeleryEventTest, StandardFieldsAsPythonSendsThem) {
  setenv("TZ", "UTC", 1);
  tzset();
  WallClock::time_point now{std::chrono::milliseconds(1795421091640)};
  Json event = CeleryEvent("task-succeeded", {"celery@vm", 24875}, 7, now,
                           {{"uuid", "abc"}, {"result", "4"}, {"runtime", 0.001}});
  EXPECT_EQ(event["type"], "task-succeeded");
  EXPECT_EQ(event["hostname"], "celery@vm");
  EXPECT_EQ(event["pid"], 24875);
  EXPECT_EQ(event["clock"], 7);
  EXPECT_EQ(event["utcoffset"], 0);
  EXPECT_DOUBLE_EQ(event["timestamp"].get<double>(), 1795421091.640);
  EXPECT_EQ(event["uuid"], "abc");
  EXPECT_EQ(event["result"], "4");
}

TEST(CeleryEventTest, UtcOffsetIsHoursWestOfUtc) {
  WallClock::time_point winter{std::chrono::seconds(1704067200)};  // 2024-01-01
  setenv("TZ", "Europe/Berlin", 1);                                // UTC+1 in winter
  tzset();
  EXPECT_EQ(UtcOffsetHours(winter), -1);
  setenv("TZ", "America/New_York", 1);  // UTC-5 in winter
  tzset();
  EXPECT_EQ(UtcOffsetHours(winter), 5);
  // Half hours round down, as Python's time.timezone // 3600 does.
  setenv("TZ", "Asia/Kolkata", 1);  // UTC+5:30
  tzset();
  EXPECT_EQ(UtcOffsetHours(winter), -6);
  setenv("TZ", "America/St_Johns", 1);  // UTC-3:30 in winter
  tzset();
  EXPECT_EQ(UtcOffsetHours(winter), 3);
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(UtcOffsetHours(winter), 0);
}

TEST(CeleryEventTest, RoutingKeys) {
  EXPECT_EQ(EventRoutingKey("task-succeeded"), "task.succeeded");
  EXPECT_EQ(EventRoutingKey("worker-heartbeat"), "worker.heartbeat");
}

TEST(CeleryEventTest, LamportClockForwardsAndAdjusts) {
  LamportClock clock;
  EXPECT_EQ(clock.Forward(), 1);
  EXPECT_EQ(clock.Forward(), 2);
  EXPECT_EQ(clock.Adjust(10), 11);
  EXPECT_EQ(clock.Adjust(3), 12);
  EXPECT_EQ(clock.value(), 12);
}

TEST(CeleryEventTest, WorkerFields) {
  Json f = WorkerEventFields(2.0, 1, 42);
  EXPECT_EQ(f["freq"], 2.0);
  EXPECT_EQ(f["active"], 1);
  EXPECT_EQ(f["processed"], 42);
  EXPECT_EQ(f["loadavg"].size(), 3u);
  EXPECT_EQ(f["sw_sys"], "Linux");
  EXPECT_EQ(f["sw_ident"], "verdi");
}

// Expected strings are what Python 3's repr() prints for the same values.
TEST(CeleryEventTest, PythonReprMatchesPython) {
  EXPECT_EQ(PythonRepr(Json::parse(R"({"a": [1, "x", null, true]})")),
            "{'a': [1, 'x', None, True]}");
  EXPECT_EQ(PythonRepr("it's"), "\"it's\"");
  EXPECT_EQ(PythonRepr("say \"hi\" it's"), "'say \"hi\" it\\'s'");
  EXPECT_EQ(PythonRepr("a\nb\\"), "'a\\nb\\\\'");
  EXPECT_EQ(PythonRepr(Json::array({1.5, false})), "[1.5, False]");
  EXPECT_EQ(PythonRepr(std::string(2000, 'x'), 10), "'xxxxxxxxx...");
}

}  // namespace
}  // namespace verdi
