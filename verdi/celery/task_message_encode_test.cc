#include "verdi/celery/task_message.h"

#include <zlib.h>

#include <chrono>
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "verdi/celery/task_message_testing.h"

namespace verdi {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

using namespace celery_testing;

TEST(CeleryMessageEncode, MatchesPythonProducer) {
  TaskMessage t;
  t.task = "proj.tasks.add";
  t.id = "d2e2b4a1-0000-4000-8000-000000000001";
  t.args = {2, 2};
  t.kwargs = {{"z", 1}};
  t.eta = Utc(2026, 11, 23, 8, 4, 54, 22062);
  t.expires = Utc(2026, 11, 23, 8, 5, 44, 22062);
  t.hard_time_limit = 30;
  t.soft_time_limit = 20;
  t.origin = "gen10779@vm";
  t.reply_to = "afab1891-544d-3a15-873e-05dee3281fd1";
  AmqpOutgoing out = EncodeTaskMessage(t);
  // Checked once with Python (celery 5.2.6, kombu 5.2.4): kombu.serialization.loads(out.body,
  // 'application/json', 'utf-8') gives ([2, 2], {'z': 1}, {...all None}), and the headers
  // below equal app.amqp.as_task_v2(id, 'proj.tasks.add', args=(2, 2), kwargs={'z': 1},
  // eta=..., expires=..., time_limit=30, soft_time_limit=20).headers key for key, the
  // reprs "(2, 2)" and "{'z': 1}" included. The body is byte for byte what kombu's
  // json.dumps writes.
  EXPECT_EQ(out.body, kCeleryJsonBody);
  EXPECT_EQ(out.headers, CeleryHeaders());
  EXPECT_TRUE(out.headers["timelimit"][0].is_number_integer());
  EXPECT_EQ(out.content_type, "application/json");
  EXPECT_EQ(out.content_encoding, "utf-8");
  EXPECT_EQ(out.correlation_id, t.id);
  EXPECT_EQ(out.reply_to, t.reply_to);
}

TEST(CeleryMessageEncode, MsgpackAsHySDSsCeleryConfigSerializes) {
  TaskMessage t;
  t.task = "proj.tasks.add";
  t.id = "d2e2b4a1-0000-4000-8000-000000000001";
  t.args = {2, 2};
  t.kwargs = {{"z", 1}};
  AmqpOutgoing out = EncodeTaskMessage(t, Serializer::kMsgpack);
  // msgpack.packb([[2, 2], {'z': 1}, {'callbacks': None, 'errbacks': None, 'chain': None,
  // 'chord': None}], use_bin_type=True), as kombu's msgpack serializer writes it.
  const char kPacked[] =
      "\x93\x92\x02\x02\x81\xa1\x7a\x01\x84\xa9\x63\x61\x6c\x6c\x62\x61\x63\x6b\x73\xc0\xa8\x65"
      "\x72\x72\x62\x61\x63\x6b\x73\xc0\xa5\x63\x68\x61\x69\x6e\xc0\xa5\x63\x68\x6f\x72\x64\xc0";
  EXPECT_EQ(out.body, std::string(kPacked, sizeof kPacked - 1));
  EXPECT_EQ(out.content_type, "application/x-msgpack");
  EXPECT_EQ(out.content_encoding, "binary");
  EXPECT_EQ(out.headers["argsrepr"], "(2, 2)");
  // And it decodes as any msgpack task message does.
  Delivery d;
  d.content_type = out.content_type;
  d.content_encoding = out.content_encoding;
  d.headers = out.headers;
  d.body = out.body;
  TaskMessage back;
  ASSERT_TRUE(Decode(d, &back).ok());
  EXPECT_EQ(back.args, t.args);
  EXPECT_EQ(back.kwargs, t.kwargs);
}

TEST(CeleryMessageEncode, ArgsreprIsTheReprOfATuple) {
  TaskMessage t;
  t.task = "hysds.task_worker.run_task";
  t.id = "id";
  t.args = Json::array({{{"a", Json::array({1, "x", nullptr, true})}}});
  EXPECT_EQ(EncodeTaskMessage(t).headers["argsrepr"], "({'a': [1, 'x', None, True]},)");
  EXPECT_EQ(EncodeTaskMessage(t).headers["kwargsrepr"], "{}");
}

TEST(CeleryMessageEncode, RoundTrip) {
  TaskMessage t;
  t.task = "hysds.job_worker.run_job";
  t.id = "id-rt";
  t.args = Json::parse(R"([{"job_info": {"x": [1, 2.5, null, "\u00e9\ud83d\ude00"]}}])");
  t.args.push_back(
      std::string("\x00\xff"
                  "ab",
                  4));  // bytes from a msgpack bin
  t.kwargs = {{"flag", true}};
  t.embed = {{"callbacks", nullptr}, {"errbacks", nullptr}, {"chain", nullptr}, {"chord", nullptr}};
  t.eta = Utc(2026, 1, 2, 3, 4, 5);
  t.hard_time_limit = 7.25;
  t.retries = 4;
  t.ignore_result = true;
  t.root_id = "root";
  t.parent_id = "parent";
  t.group_id = "group";
  t.origin = "verdi@host";
  t.shadow = "shadow";
  t.reply_to = "r";
  AmqpOutgoing out = EncodeTaskMessage(t);
  EXPECT_EQ(out.headers["timelimit"], Json::parse("[7.25, null]"));
  EXPECT_EQ(out.headers["eta"], "2026-01-02T03:04:05+00:00");
  Delivery d = JsonDelivery(out.body, out.headers);
  d.correlation_id = out.correlation_id;
  d.reply_to = out.reply_to;
  TaskMessage back;
  Status st = Decode(d, &back);
  ASSERT_TRUE(st.ok()) << st.message();
  t.correlation_id = "id-rt";
  EXPECT_EQ(back.task, t.task);
  EXPECT_EQ(back.id, t.id);
  EXPECT_EQ(back.args, t.args);
  EXPECT_EQ(back.kwargs, t.kwargs);
  EXPECT_EQ(back.embed, t.embed);
  EXPECT_EQ(back.eta, t.eta);
  EXPECT_FALSE(back.expires);
  EXPECT_EQ(back.hard_time_limit, t.hard_time_limit);
  EXPECT_FALSE(back.soft_time_limit);
  EXPECT_EQ(back.retries, t.retries);
  EXPECT_EQ(back.ignore_result, t.ignore_result);
  EXPECT_EQ(back.root_id, t.root_id);
  EXPECT_EQ(back.parent_id, t.parent_id);
  EXPECT_EQ(back.group_id, t.group_id);
  EXPECT_EQ(back.origin, t.origin);
  EXPECT_EQ(back.shadow, t.shadow);
  EXPECT_EQ(back.reply_to, t.reply_to);
  EXPECT_EQ(back.correlation_id, t.correlation_id);
}

TEST(CeleryMessageEncode, MsgpackAsTaskSerializer) {
  TaskMessage t;
  t.task = kRunJobTaskName;
  t.id = "id-mp";
  t.args = {{{"job_id", "j"}, {"bytes", std::string("\xff\x00", 2)}}};
  t.kwargs = {{"queue_when_finished", true}};
  t.embed = {{"chain", Json::array()}};
  AmqpOutgoing out = EncodeTaskMessage(t, Serializer::kMsgpack);
  EXPECT_EQ(out.content_type, "application/x-msgpack");
  EXPECT_EQ(out.content_encoding, "binary");
  EXPECT_EQ(static_cast<unsigned char>(out.body[0]), 0x93);  // [args, kwargs, embed]
  EXPECT_EQ(out.headers["argsrepr"], EncodeTaskMessage(t).headers["argsrepr"]);
  Delivery d;
  d.content_type = out.content_type;
  d.headers = out.headers;
  d.body = out.body;
  TaskMessage back;
  Status st = DecodeTaskMessage(d, DecodeLimits(), &back);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(back.id, "id-mp");
  EXPECT_EQ(back.args, t.args);  // the bytes went as bin and came back as they were
  EXPECT_EQ(back.kwargs, t.kwargs);
  EXPECT_EQ(back.embed,
            Json::parse(R"({"callbacks": null, "errbacks": null, "chain": [], "chord": null})"));
}

TEST(CeleryMessageEncode, ReprIsCutAt1024Bytes) {
  TaskMessage t;
  t.task = "t";
  t.id = "i";
  t.args = {std::string(2000, 'a')};
  AmqpOutgoing out = EncodeTaskMessage(t);
  std::string repr = out.headers["argsrepr"];
  // The repr of the args tuple, cut at 1024 characters.
  EXPECT_EQ(repr, "('" + std::string(1022, 'a') + "...");
  EXPECT_EQ(out.headers["kwargsrepr"], "{}");
  EXPECT_EQ(out.headers["root_id"], "i");
  EXPECT_EQ(out.headers["timelimit"], Json::parse("[null, null]"));
  EXPECT_EQ(out.headers["ignore_result"], false);
  EXPECT_TRUE(out.headers["origin"].is_null());
}

TEST(CeleryMessageEncode, PyJsonDumpsMatchesPython) {
  // json.dumps({"a": [1, 2.5, None, True, 1e16, 1e-7, 30.0], "b": "é😀\n\"\x01/", "c": {},
  //             "d": float('nan')}) in Python 3.11.
  Json v = {{"a", {1, 2.5, nullptr, true, 1e16, 1e-7, 30.0}},
            {"b", "\u00e9\U0001F600\n\"\x01/"},
            {"c", Json::object()},
            {"d", std::nan("")}};
  EXPECT_EQ(
      PyJsonDumps(v),
      R"({"a": [1, 2.5, null, true, 1e+16, 1e-07, 30.0], "b": "\u00e9\ud83d\ude00\n\"\u0001/", )"
      R"("c": {}, "d": NaN})");
  // Not UTF-8: kombu's base64 marker (kombu >= 5.3 JSONEncoder does the same for bytes).
  EXPECT_EQ(PyJsonDumps(Json(std::string("\x00\xff"
                                         "ab",
                                         4))),
            R"({"__type__": "base64", "__value__": "AP9hYg=="})");
  EXPECT_EQ(PyJsonDumps(Json(std::string("\xff"))),
            R"({"__type__": "base64", "__value__": "/w=="})");
  EXPECT_EQ(PyJsonDumps(Json(std::string("\xff\xfe"))),
            R"({"__type__": "base64", "__value__": "//4="})");
  EXPECT_EQ(PyJsonDumps({{"k\xff", 1}}), R"({"k\ufffd": 1})");
}

TEST(CeleryMessageEncode, FormatIsoTime) {
  EXPECT_EQ(FormatIsoTime(Utc(2026, 11, 23, 8, 4, 54, 22062)), "2026-11-23T08:04:54.022062+00:00");
  EXPECT_EQ(FormatIsoTime(Utc(2026, 11, 23, 8, 4, 54)), "2026-11-23T08:04:54+00:00");
  EXPECT_EQ(FormatIsoTime(Utc(1969, 12, 31, 23, 59, 59, 500000)),
            "1969-12-31T23:59:59.500000+00:00");
  // The clamped extremes (nanosecond ticks: years 1677..2262) format and parse back.
  EXPECT_EQ(FormatIsoTime(WallClock::time_point::max()), "2262-04-11T23:47:16.854775+00:00");
  EXPECT_EQ(FormatIsoTime(WallClock::time_point::min()), "1677-09-21T00:12:43.145224+00:00");
  WallClock::time_point t;
  ASSERT_TRUE(ParseIsoTime(FormatIsoTime(WallClock::time_point::min()), &t));
  EXPECT_EQ(t, WallClock::time_point::min());
}

}  // namespace
}  // namespace verdi
