// Decoding Celery task messages: what Python's Celery sends (protocol 2 and
// 1), the headers and their checks, ETAs, and the shape of the body.
#include "verdi/celery/task_message.h"

#include <chrono>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "verdi/celery/task_message_testing.h"

namespace verdi {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

using namespace celery_testing;

void ExpectCeleryAddTask(const TaskMessage& m) {
  EXPECT_EQ(m.protocol, 2);
  EXPECT_EQ(m.task, "proj.tasks.add");
  EXPECT_EQ(m.id, "d2e2b4a1-0000-4000-8000-000000000001");
  EXPECT_EQ(m.args, Json::parse("[2, 2]"));
  EXPECT_EQ(m.kwargs, Json::parse(R"({"z": 1})"));
  EXPECT_EQ(m.embed,
            Json::parse(R"({"callbacks": null, "errbacks": null, "chain": null, "chord": null})"));
  EXPECT_EQ(m.eta, Utc(2026, 11, 23, 8, 4, 54, 22062));
  EXPECT_EQ(m.expires, Utc(2026, 11, 23, 8, 5, 44, 22062));
  EXPECT_EQ(m.hard_time_limit, 30.0);
  EXPECT_EQ(m.soft_time_limit, 20.0);
  EXPECT_EQ(m.retries, 0);
  EXPECT_EQ(m.ignore_result, false);
  EXPECT_EQ(m.root_id, "d2e2b4a1-0000-4000-8000-000000000001");
  EXPECT_EQ(m.parent_id, "");
  EXPECT_EQ(m.group_id, "");
  EXPECT_EQ(m.origin, "gen10779@vm");
  EXPECT_EQ(m.shadow, "");
  EXPECT_EQ(m.reply_to, "afab1891-544d-3a15-873e-05dee3281fd1");
  EXPECT_EQ(m.correlation_id, "d2e2b4a1-0000-4000-8000-000000000001");
}

TEST(CeleryMessageDecode, PythonCeleryJsonV2) {
  Delivery d = JsonDelivery(kCeleryJsonBody, CeleryHeaders());
  d.correlation_id = "d2e2b4a1-0000-4000-8000-000000000001";
  d.reply_to = "afab1891-544d-3a15-873e-05dee3281fd1";
  TaskMessage m;
  ASSERT_TRUE(Decode(d, &m).ok());
  ExpectCeleryAddTask(m);
}

TEST(CeleryMessageDecode, PythonCeleryMsgpackV2) {
  // The same send_task with serializer='msgpack', priority=5 (content_encoding binary).
  Delivery d;
  d.content_type = "application/x-msgpack";
  d.content_encoding = "binary";
  d.priority = 5;
  d.headers = CeleryHeaders();
  d.correlation_id = "d2e2b4a1-0000-4000-8000-000000000001";
  d.reply_to = "afab1891-544d-3a15-873e-05dee3281fd1";
  d.body = FromHex(
      "9392020281a17a0184a963616c6c6261636b73c0a86572726261636b73c0a5636861696ec0a563686f7264c0");
  TaskMessage m;
  ASSERT_TRUE(Decode(d, &m).ok());
  ExpectCeleryAddTask(m);
}

TEST(CeleryMessageDecode, RefusalStillReportsIdAndTask) {
  Delivery d = Minimal();
  d.content_type = "application/x-python-serialize";
  TaskMessage m;
  EXPECT_FALSE(Decode(d, &m).ok());
  EXPECT_EQ(m.task, "t.x");
  EXPECT_EQ(m.id, "id-1");
  // v1: read from the body.
  d = JsonDelivery(R"({"task": "t.v1", "id": "id-v1", "args": [], "kwargs": 3})");
  EXPECT_EQ(Decode(d, &m).message(), "body.kwargs: expected a map, got 3");
  EXPECT_EQ(m.task, "t.v1");
  EXPECT_EQ(m.id, "id-v1");
}

TEST(CeleryMessageDecode, BodyShape) {
  EXPECT_EQ(DecodeError(Minimal("42")), "body: expected [args, kwargs, embed], got 42");
  EXPECT_EQ(DecodeError(Minimal("[[], {}]")), "body: expected [args, kwargs, embed], got a list");
  EXPECT_EQ(DecodeError(Minimal(R"({"x": 1})")),
            "body: expected [args, kwargs, embed], got an object");
  EXPECT_EQ(DecodeError(Minimal(R"([{"a": 1}, {}, null])")),
            "body[0] (args): expected a list, got an object");
  EXPECT_EQ(DecodeError(Minimal(R"([[], [1], null])")),
            "body[1] (kwargs): expected a map, got a list");
  EXPECT_EQ(DecodeError(Minimal(R"([[], null, null])")),
            "body[1] (kwargs): expected a map, got null");
  EXPECT_EQ(DecodeError(Minimal(R"([[], {}, 5])")),
            "body[2] (embed): expected a map or null, got 5");
}

TEST(CeleryMessageDecode, RequiredHeaders) {
  Delivery d = Minimal();
  d.headers["task"] = nullptr;
  EXPECT_EQ(DecodeError(d), "headers.task: expected a non-empty string, got null");
  d.headers["task"] = "";
  EXPECT_EQ(DecodeError(d), "headers.task: expected a non-empty string, got \"\"");
  d = Minimal();
  d.headers.erase("id");
  EXPECT_EQ(DecodeError(d), "headers.id: is missing, expected a non-empty string");
  d.headers["id"] = 12;
  EXPECT_EQ(DecodeError(d), "headers.id: expected a non-empty string, got 12");
  d.headers["id"] = std::string(256, 'a');
  EXPECT_EQ(DecodeError(d), "headers.id: is 256 bytes, more than the 255 allowed");
  d.headers["id"] = std::string(255, 'a');
  EXPECT_EQ(DecodeError(d), "");
  d.headers = 5;
  EXPECT_EQ(DecodeError(d), "headers: expected a table, got 5");
}

TEST(CeleryMessageDecode, OnlyTaskAndIdAreNeeded) {
  // celery.node sends only task and id; correlation_id falls back to the id.
  Delivery d = Minimal(R"([[1], {"a": "b"}, {"callbacks": null}])");
  TaskMessage m;
  ASSERT_TRUE(Decode(d, &m).ok());
  EXPECT_EQ(m.protocol, 2);
  EXPECT_EQ(m.args, Json::parse("[1]"));
  EXPECT_EQ(m.kwargs, Json::parse(R"({"a": "b"})"));
  EXPECT_EQ(m.embed, Json::parse(R"({"callbacks": null})"));
  EXPECT_FALSE(m.eta || m.expires || m.hard_time_limit || m.soft_time_limit || m.ignore_result);
  EXPECT_EQ(m.retries, 0);
  EXPECT_EQ(m.correlation_id, "id-1");
  EXPECT_EQ(m.root_id, "");
}

TEST(CeleryMessageDecode, NullHeadersAreNotGiven) {
  // rusty-celery sends null for every optional header.
  Delivery d = Minimal();
  for (const char* key :
       {"lang", "shadow", "eta", "expires", "group", "group_index", "retries", "root_id",
        "parent_id", "argsrepr", "kwargsrepr", "origin", "ignore_result", "timelimit"})
    d.headers[key] = nullptr;
  TaskMessage m;
  ASSERT_TRUE(Decode(d, &m).ok());
  EXPECT_FALSE(m.eta || m.expires || m.hard_time_limit || m.ignore_result);
  EXPECT_EQ(m.retries, 0);
  d.headers["timelimit"] = Json::array({nullptr, nullptr});
  ASSERT_TRUE(Decode(d, &m).ok());
  EXPECT_FALSE(m.hard_time_limit || m.soft_time_limit);
}

TEST(CeleryMessageDecode, OptionalHeadersAreRead) {
  Delivery d = Minimal();
  d.headers.update({{"group", "g-1"},
                    {"parent_id", "p-1"},
                    {"root_id", "r-1"},
                    {"shadow", "alias"},
                    {"retries", 3},
                    {"ignore_result", true},
                    {"timelimit", {12.5, nullptr}}});
  d.correlation_id = "corr";
  d.reply_to = "reply-queue";
  TaskMessage m;
  ASSERT_TRUE(Decode(d, &m).ok());
  EXPECT_EQ(m.group_id, "g-1");
  EXPECT_EQ(m.parent_id, "p-1");
  EXPECT_EQ(m.root_id, "r-1");
  EXPECT_EQ(m.shadow, "alias");
  EXPECT_EQ(m.retries, 3);
  EXPECT_EQ(m.ignore_result, true);
  EXPECT_EQ(m.hard_time_limit, 12.5);
  EXPECT_FALSE(m.soft_time_limit);
  EXPECT_EQ(m.correlation_id, "corr");
  EXPECT_EQ(m.reply_to, "reply-queue");
}

TEST(CeleryMessageDecode, BadOptionalHeaders) {
  auto error_with = [](const char* key, Json value) {
    Delivery d = Minimal();
    d.headers[key] = std::move(value);
    return DecodeError(d);
  };
  EXPECT_EQ(error_with("timelimit", 30), "headers.timelimit: expected [hard, soft], got 30");
  EXPECT_EQ(error_with("timelimit", {1, 2, 3}),
            "headers.timelimit: expected [hard, soft], got a list");
  EXPECT_EQ(error_with("timelimit", {"a", 1}),
            "headers.timelimit[0] (hard): expected a number >= 0 or null, got \"a\"");
  EXPECT_EQ(error_with("timelimit", {1, -2}),
            "headers.timelimit[1] (soft): expected a number >= 0 or null, got -2");
  EXPECT_EQ(error_with("timelimit", {true, 1}),
            "headers.timelimit[0] (hard): expected a number >= 0 or null, got true");
  EXPECT_EQ(error_with("retries", "x"), "headers.retries: expected an integer, got \"x\"");
  EXPECT_EQ(error_with("ignore_result", "yes"),
            "headers.ignore_result: expected true or false, got \"yes\"");
  EXPECT_EQ(error_with("parent_id", 5), "headers.parent_id: expected a string, got 5");
  EXPECT_EQ(error_with("eta", "tomorrow"),
            "headers.eta: expected an ISO-8601 time, got \"tomorrow\"");
  EXPECT_EQ(error_with("expires", true), "headers.expires: expected an ISO-8601 time, got true");
}

TEST(CeleryMessageDecode, EtaForms) {
  auto eta_of = [](Json value) -> std::optional<WallClock::time_point> {
    Delivery d = Minimal();
    d.headers["eta"] = std::move(value);
    TaskMessage m;
    Status st = Decode(d, &m);
    EXPECT_TRUE(st.ok()) << st.message();
    return m.eta;
  };
  const auto t = Utc(2026, 11, 23, 8, 4, 54);
  EXPECT_EQ(eta_of("2026-11-23T08:04:54"), t);  // naive: UTC
  EXPECT_EQ(eta_of("2026-11-23T08:04:54Z"), t);
  EXPECT_EQ(eta_of("2026-11-23T08:04:54+00:00"), t);
  EXPECT_EQ(eta_of("2026-11-23T10:04:54+02:00"), t);
  EXPECT_EQ(eta_of("2026-11-23T02:34:54-05:30"), t);
  EXPECT_EQ(eta_of("2026-11-23T10:04:54+0200"), t);
  EXPECT_EQ(eta_of("2026-11-23 08:04:54"), t);
  EXPECT_EQ(eta_of("2026-11-23T08:04:54.5"), t + microseconds(500000));
  EXPECT_EQ(eta_of("2026-11-23T08:04:54.022062+00:00"), t + microseconds(22062));
  EXPECT_EQ(eta_of("2026-11-23T08:04:54.123456789Z"), t + microseconds(123456));
  EXPECT_EQ(eta_of("2026-11-23T08:04"), t - seconds(54));
  EXPECT_EQ(eta_of("2026-11-23"), Utc(2026, 11, 23, 0, 0, 0));
  EXPECT_EQ(eta_of(1795421094), t);  // an AMQP timestamp: POSIX seconds
  EXPECT_EQ(eta_of("9999-12-31T23:59:59"), WallClock::time_point::max());  // clamped
}

TEST(CeleryMessageDecode, BadEtaStrings) {
  for (const char* bad :
       {"2026-13-01T00:00:00", "2026-02-29T00:00:00", "2026-11-23T24:00:00", "2026-11-23T08:60:00",
        "2026-11-23T08:04:54.", "2026-11-23T08:04:54+2", "2026-11-23X08:04:54",
        "2026-11-23T08:04:54 UTC", "26-11-23", "0000-01-01", ""}) {
    WallClock::time_point t;
    EXPECT_FALSE(ParseIsoTime(bad, &t)) << bad;
  }
  WallClock::time_point t;
  EXPECT_TRUE(ParseIsoTime("2024-02-29T00:00:00", &t));
}

// as_task_v1('id-v1', 'proj.tasks.add', args=(3, 4), kwargs={}, eta=now, expires=now+60s,
//            time_limit=30, soft_time_limit=20, group_id='g-1', retries=2), serialized by
// kombu.serialization.dumps(body, 'json'); v1 has no headers.
constexpr char kCeleryV1Json[] =
    R"({"task": "proj.tasks.add", "id": "id-v1", "args": [3, 4], "kwargs": {}, "group": "g-1", )"
    R"("group_index": null, "retries": 2, "eta": "2026-11-23T08:04:44.022062+00:00", )"
    R"("expires": "2026-11-23T08:05:44.022062+00:00", "utc": true, "callbacks": null, )"
    R"("errbacks": null, "timelimit": [30, 20], "taskset": "g-1", "chord": null})";

void ExpectCeleryV1(const TaskMessage& m) {
  EXPECT_EQ(m.protocol, 1);
  EXPECT_EQ(m.task, "proj.tasks.add");
  EXPECT_EQ(m.id, "id-v1");
  EXPECT_EQ(m.args, Json::parse("[3, 4]"));
  EXPECT_EQ(m.kwargs, Json::object());
  EXPECT_EQ(m.group_id, "g-1");
  EXPECT_EQ(m.retries, 2);
  EXPECT_EQ(m.eta, Utc(2026, 11, 23, 8, 4, 44, 22062));
  EXPECT_EQ(m.expires, Utc(2026, 11, 23, 8, 5, 44, 22062));
  EXPECT_EQ(m.hard_time_limit, 30.0);
  EXPECT_EQ(m.soft_time_limit, 20.0);
  EXPECT_EQ(m.embed,
            Json::parse(R"({"callbacks": null, "errbacks": null, "chain": null, "chord": null})"));
}

TEST(CeleryMessageDecode, PythonCeleryV1) {
  TaskMessage m;
  ASSERT_TRUE(Decode(JsonDelivery(kCeleryV1Json), &m).ok());
  ExpectCeleryV1(m);
  Delivery d;  // the same body through kombu's msgpack serializer
  d.content_type = "application/x-msgpack";
  d.headers = nullptr;
  d.body = FromHex(
      "8fa47461736bae70726f6a2e7461736b732e616464a26964a569642d7631a461726773920304a66b776172677380"
      "a567726f7570a3672d31ab67726f75705f696e646578c0a77265747269657302a3657461d920323032362d3131"
      "2d32335430383a30343a34342e3032323036322b30303a3030a765787069726573d920323032362d31312d3233"
      "5430383a30353a34342e3032323036322b30303a3030a3757463c3a963616c6c6261636b73c0a865727262616"
      "36b73c0a974696d656c696d6974921e14a77461736b736574a3672d31a563686f7264c0");
  ASSERT_TRUE(Decode(d, &m).ok());
  ExpectCeleryV1(m);
}

TEST(CeleryMessageDecode, V1TasksetNamesTheGroup) {
  TaskMessage m;
  ASSERT_TRUE(
      Decode(JsonDelivery(R"({"task": "t", "id": "i", "kwargs": {}, "taskset": "ts"})"), &m).ok());
  EXPECT_EQ(m.group_id, "ts");
  EXPECT_EQ(m.args, Json::array());
}

TEST(CeleryMessageDecode, NeitherV2NorV1) {
  const char* kNot = "not a Celery task message: no task header and the body has no task";
  EXPECT_EQ(DecodeError(JsonDelivery("[[], {}, null]")), kNot);
  EXPECT_EQ(DecodeError(JsonDelivery(R"({"id": "x", "args": []})")), kNot);
  Delivery d = JsonDelivery("[[], {}, null]", nullptr);
  EXPECT_EQ(DecodeError(d), kNot);
}

TEST(CeleryMessageDecode, HybridBodyHeadersWin) {
  // A v1-style map body with args, sent with v2 headers (hybrid_to_proto2).
  Delivery d = JsonDelivery(
      R"({"task": "body.task", "id": "body-id", "args": [1], "kwargs": {"k": 2}, "retries": 5,
          "eta": "2030-01-01T00:00:00", "taskset": "ts", "timelimit": [9, 8]})",
      {{"task", "header.task"},
       {"id", "header-id"},
       {"eta", "2026-11-23T08:04:54Z"},
       {"timelimit", nullptr}});
  TaskMessage m;
  ASSERT_TRUE(Decode(d, &m).ok());
  EXPECT_EQ(m.protocol, 2);
  EXPECT_EQ(m.task, "header.task");
  EXPECT_EQ(m.id, "header-id");
  EXPECT_EQ(m.args, Json::parse("[1]"));
  EXPECT_EQ(m.kwargs, Json::parse(R"({"k": 2})"));
  EXPECT_EQ(m.retries, 5);                        // only in the body
  EXPECT_EQ(m.eta, Utc(2026, 11, 23, 8, 4, 54));  // the header's
  EXPECT_FALSE(m.hard_time_limit);                // a present null header wins too
  EXPECT_EQ(m.group_id, "ts");
  d.headers["retries"] = "bad";
  EXPECT_EQ(DecodeError(d), "headers.retries: expected an integer, got \"bad\"");
  d.headers.erase("retries");
  d.body = R"({"args": [], "retries": "bad"})";
  EXPECT_EQ(DecodeError(d), "body.retries: expected an integer, got \"bad\"");
}

}  // namespace
}  // namespace verdi
