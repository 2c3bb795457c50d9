#include "jobspec/json_field.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/timestamp.h"
#include "jobspec/job.h"

namespace verdi {
namespace {

// A job that passes ParseJob, for tests that break one field of it.
Json MinimalJob() {
  return Json::parse(R"({
    "job_id": "hello_world-20240101T000000.0Z",
    "type": "job-hello_world:develop",
    "localize_urls": [],
    "params": {"job_specification": {"command": "/bin/true", "params": []}}
  })");
}

// Writes `text` to a fresh file under the temp dir and returns its path.
std::string WriteTempFile(const std::string& text) {
  std::string path = ::testing::TempDir() + "json_field_test_XXXXXX";
  int fd = mkstemp(path.data());
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  return path;
}

TEST(JsonFieldTest, PathsOfMembersAndElements) {
  Json doc = Json::parse(R"({"params": {"x": [10, {"url": "u"}]}})");
  JsonField root(&doc, "job");
  EXPECT_EQ(root.path(), "job");
  EXPECT_EQ(root["params"]["x"].path(), "job.params.x");
  EXPECT_EQ(root["params"]["x"].at(1)["url"].path(), "job.params.x[1].url");
  EXPECT_EQ(root["params"]["x"].size(), 2u);
  EXPECT_EQ(root["params"].size(), 0u);  // an object has no elements
  std::string url;
  ASSERT_TRUE(root["params"]["x"].at(1)["url"].GetString(&url).ok());
  EXPECT_EQ(url, "u");
  int64_t n = 0;
  ASSERT_TRUE(root["params"]["x"].at(0).GetInt(&n).ok());
  EXPECT_EQ(n, 10);
}

TEST(JsonFieldTest, AbsentChildrenKeepTheirPath) {
  Json doc = Json::parse(R"({"a": 1, "list": [1]})");
  JsonField root(&doc, "cfg");
  // Below a missing key, below a non-object, past the end of a list.
  EXPECT_FALSE(root["nope"]["deeper"].present());
  EXPECT_EQ(root["nope"]["deeper"].path(), "cfg.nope.deeper");
  EXPECT_FALSE(root["a"]["b"].present());
  EXPECT_FALSE(root["list"].at(1).present());
  EXPECT_FALSE(root["a"].at(0).present());
  std::string s;
  Status st = root["a"]["b"].GetString(&s);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(), "cfg.a.b: is missing, expected a string");
  st = root["list"].at(1).GetString(&s);
  EXPECT_EQ(st.message(), "cfg.list[1]: is missing, expected a string");
}

TEST(JsonFieldTest, NullIsPresentButMissing) {
  Json doc = Json::parse(R"({"n": null})");
  JsonField root(&doc, "d");
  EXPECT_TRUE(root["n"].present());
  EXPECT_TRUE(root["n"].missing());
  EXPECT_FALSE(root["absent"].present());
  EXPECT_TRUE(root["absent"].missing());
  EXPECT_FALSE(root.missing());

  // Optional getters leave the output alone for null and absent.
  std::string s = "keep";
  int64_t i = 7;
  bool b = true;
  std::vector<std::string> list{"keep"};
  for (const char* key : {"n", "absent"}) {
    EXPECT_TRUE(root[key].GetOptionalString(&s).ok());
    EXPECT_TRUE(root[key].GetOptionalInt(&i).ok());
    EXPECT_TRUE(root[key].GetOptionalBool(&b).ok());
    EXPECT_TRUE(root[key].GetOptionalStringList(&list).ok());
  }
  EXPECT_EQ(s, "keep");
  EXPECT_EQ(i, 7);
  EXPECT_TRUE(b);
  EXPECT_EQ(list, std::vector<std::string>{"keep"});

  // A required getter rejects a present null and says what it got.
  Status st = root["n"].GetString(&s);
  EXPECT_EQ(st.message(), "d.n: expected a string, got null");
}

TEST(JsonFieldTest, ParseJobNamesTheNestedPathOfAWrongType) {
  Json doc = MinimalJob();
  doc["params"]["job_specification"]["command"] = 42;
  Job job;
  Status st = ParseJob(doc, &job);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(), "job.params.job_specification.command: expected a string, got 42");
}

TEST(JsonFieldTest, ParseJobNamesTheNestedPathOfAMissingValue) {
  Json doc = MinimalJob();
  doc["params"]["job_specification"].erase("command");
  Job job;
  Status st = ParseJob(doc, &job);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(), "job.params.job_specification.command: is missing, expected a string");
}

TEST(JsonFieldTest, ParseJobNamesTheListIndex) {
  Json doc = MinimalJob();
  doc["localize_urls"] = Json::parse(R"([{"url": "https://a/b"}, {"local_path": "x/"}])");
  Job job;
  Status st = ParseJob(doc, &job);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(), "job.localize_urls[1].url: is missing, expected a string");
}

TEST(JsonFieldTest, GetIntAcceptsWholeFloats) {
  Json doc = Json::parse(R"({"a": 3600.0, "b": -2, "c": 0.0, "d": 9007199254740992})");
  JsonField root(&doc, "x");
  int64_t n = 0;
  ASSERT_TRUE(root["a"].GetInt(&n).ok());
  EXPECT_EQ(n, 3600);
  ASSERT_TRUE(root["b"].GetInt(&n).ok());
  EXPECT_EQ(n, -2);
  ASSERT_TRUE(root["c"].GetInt(&n).ok());
  EXPECT_EQ(n, 0);
  ASSERT_TRUE(root["d"].GetInt(&n).ok());
  EXPECT_EQ(n, 9007199254740992);
}

TEST(JsonFieldTest, GetIntLimitsOfInt64) {
  Json doc = Json::parse(
      R"({"max": 9223372036854775807, "min": -9223372036854775808,
          "min_float": -9223372036854775808.0, "over_float": 9223372036854775808.0})");
  JsonField root(&doc, "x");
  int64_t n = 0;
  ASSERT_TRUE(root["max"].GetInt(&n).ok());
  EXPECT_EQ(n, INT64_MAX);
  ASSERT_TRUE(root["min"].GetInt(&n).ok());
  EXPECT_EQ(n, INT64_MIN);
  ASSERT_TRUE(root["min_float"].GetInt(&n).ok());
  EXPECT_EQ(n, INT64_MIN);
  n = 5;
  EXPECT_EQ(root["over_float"].GetInt(&n).message(),
            "x.over_float: expected an integer, got 9.223372036854776e+18");
  EXPECT_EQ(n, 5);
}

TEST(JsonFieldTest, GetIntRejectsFractionsStringsAndOutOfRange) {
  Json doc = Json::parse(
      R"({"frac": 1.5, "str": "10", "bool": true, "big": 18446744073709551615,
          "huge": 1e300, "neg_huge": -1e300})");
  JsonField root(&doc, "x");
  int64_t n = 5;
  EXPECT_EQ(root["frac"].GetInt(&n).message(), "x.frac: expected an integer, got 1.5");
  EXPECT_EQ(root["str"].GetInt(&n).message(), "x.str: expected an integer, got \"10\"");
  EXPECT_EQ(root["bool"].GetInt(&n).message(), "x.bool: expected an integer, got true");
  EXPECT_EQ(root["missing"].GetInt(&n).message(), "x.missing: is missing, expected an integer");
  // Beyond int64_t: rejected, not wrapped around.
  EXPECT_EQ(root["big"].GetInt(&n).message(),
            "x.big: expected an integer, got 18446744073709551615");
  EXPECT_TRUE(root["huge"].GetInt(&n).IsInvalid());
  EXPECT_TRUE(root["neg_huge"].GetInt(&n).IsInvalid());
  EXPECT_EQ(n, 5);
  // The optional getter rejects the same values.
  EXPECT_EQ(root["frac"].GetOptionalInt(&n).message(), "x.frac: expected an integer, got 1.5");
}

TEST(JsonFieldTest, GetBoolAndGetString) {
  Json doc = Json::parse(R"({"t": true, "s": "yes", "n": 1})");
  JsonField root(&doc, "x");
  bool b = false;
  ASSERT_TRUE(root["t"].GetBool(&b).ok());
  EXPECT_TRUE(b);
  EXPECT_EQ(root["s"].GetBool(&b).message(), "x.s: expected true or false, got \"yes\"");
  EXPECT_EQ(root["n"].GetOptionalBool(&b).message(), "x.n: expected true or false, got 1");
  std::string s = "keep";
  EXPECT_EQ(root["n"].GetString(&s).message(), "x.n: expected a string, got 1");
  EXPECT_EQ(root["t"].GetOptionalString(&s).message(), "x.t: expected a string, got true");
  EXPECT_EQ(s, "keep");
}

TEST(JsonFieldTest, GetStringList) {
  Json doc = Json::parse(R"({"ok": ["a", "", "c"], "bad": ["a", 2], "obj": {"a": "b"}})");
  JsonField root(&doc, "x");
  std::vector<std::string> list;
  ASSERT_TRUE(root["ok"].GetStringList(&list).ok());
  EXPECT_EQ(list, (std::vector<std::string>{"a", "", "c"}));

  std::vector<std::string> kept{"keep"};
  EXPECT_EQ(root["bad"].GetStringList(&kept).message(), "x.bad[1]: expected a string, got 2");
  EXPECT_EQ(root["obj"].GetOptionalStringList(&kept).message(),
            "x.obj: expected a list, got an object");
  EXPECT_EQ(root["none"].GetStringList(&kept).message(), "x.none: is missing, expected a list");
  EXPECT_EQ(kept, std::vector<std::string>{"keep"});
}

TEST(JsonFieldTest, ExpectObjectAndArray) {
  Json doc = Json::parse(R"({"o": {}, "a": [], "s": "str"})");
  JsonField root(&doc, "x");
  EXPECT_TRUE(root["o"].ExpectObject().ok());
  EXPECT_TRUE(root["a"].ExpectArray().ok());
  EXPECT_EQ(root["a"].ExpectObject().message(), "x.a: expected an object, got a list");
  EXPECT_EQ(root["o"].ExpectArray().message(), "x.o: expected a list, got an object");
  EXPECT_EQ(root["s"].ExpectObject().message(), "x.s: expected an object, got \"str\"");
  EXPECT_EQ(root["z"].ExpectArray().message(), "x.z: is missing, expected a list");
}

TEST(JsonFieldTest, ErrorNamesWhatWasExpected) {
  Json doc = Json::parse(R"({"a": 1.25})");
  JsonField root(&doc, "x");
  Status st = root["a"].Error("a URL");
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(), "x.a: expected a URL, got 1.25");
  EXPECT_EQ(root["b"].Error("a URL").message(), "x.b: is missing, expected a URL");
}

TEST(JsonFieldTest, DescribeJson) {
  EXPECT_EQ(DescribeJson(Json(42)), "42");
  EXPECT_EQ(DescribeJson(Json("a\"b")), "\"a\\\"b\"");
  EXPECT_EQ(DescribeJson(Json(nullptr)), "null");
  EXPECT_EQ(DescribeJson(Json(false)), "false");
  EXPECT_EQ(DescribeJson(Json::object()), "an object");
  EXPECT_EQ(DescribeJson(Json::array({1, 2})), "a list");
  // Long values are cut to 60 characters and marked.
  EXPECT_EQ(DescribeJson(Json(std::string(100, 'a'))), "\"" + std::string(59, 'a') + "...");
  // Non-ASCII is escaped so messages stay printable.
  EXPECT_EQ(DescribeJson(Json("é")), "\"\\u00e9\"");
}

TEST(JsonFieldTest, FindPath) {
  Json doc = Json::parse(R"({"params": {"job_specification": {"command": "/x"}}, "s": "t"})");
  const Json* found = FindPath(doc, {"params", "job_specification", "command"});
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(*found, "/x");
  EXPECT_EQ(FindPath(doc, {}), &doc);
  EXPECT_EQ(FindPath(doc, {"params", "nope"}), nullptr);
  EXPECT_EQ(FindPath(doc, {"s", "t"}), nullptr);
  EXPECT_EQ(FindPath(Json::array({1}), {"a"}), nullptr);
}

TEST(JsonFieldTest, ParseJsonTextAcceptsAndRejects) {
  Json out;
  ASSERT_TRUE(ParseJsonText(R"({"a": [1, "b"]})", "job.json", &out).ok());
  EXPECT_EQ(out, Json::parse(R"({"a": [1, "b"]})"));

  Json kept = "keep";
  Status st = ParseJsonText(R"({"a": })", "job.json", &kept);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message().rfind("job.json: invalid JSON: ", 0), 0u) << st.message();
  EXPECT_NE(st.message().find("line 1, column 7"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("[json.exception"), std::string::npos) << st.message();
  EXPECT_EQ(kept, "keep");

  st = ParseJsonText(R"({"a": [1, 2)", "/tmp/truncated.json", &kept);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message().rfind("/tmp/truncated.json: invalid JSON: ", 0), 0u) << st.message();
  EXPECT_NE(st.message().find("unexpected end of input"), std::string::npos) << st.message();

  st = ParseJsonText("", "empty.json", &kept);
  EXPECT_EQ(st.message().rfind("empty.json: invalid JSON: ", 0), 0u) << st.message();
  st = ParseJsonText("{} x", "trail.json", &kept);
  EXPECT_EQ(st.message().rfind("trail.json: invalid JSON: ", 0), 0u) << st.message();
  EXPECT_EQ(kept, "keep");
}

TEST(JsonFieldTest, ReadJsonFile) {
  std::string good = WriteTempFile(R"({"job_id": "x", "n": [1]})");
  Json out;
  ASSERT_TRUE(ReadJsonFile(good, &out).ok());
  EXPECT_EQ(out, Json::parse(R"({"job_id": "x", "n": [1]})"));

  std::string bad = WriteTempFile("{\"job_id\": ");
  Status st = ReadJsonFile(bad, &out);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message().rfind(bad + ": invalid JSON: ", 0), 0u) << st.message();
  std::remove(good.c_str());
  std::remove(bad.c_str());

  std::string missing = ::testing::TempDir() + "json_field_test_no_such_file.json";
  st = ReadJsonFile(missing, &out);
  EXPECT_TRUE(st.IsIOError());
  EXPECT_EQ(st.message(), missing + ": No such file or directory");
}

TEST(JsonFieldTest, WriteJsonFileReplacesWholeAndLeavesNoTemporary) {
  std::string path = ::testing::TempDir() + "json_field_test_write.json";
  ASSERT_TRUE(WriteJsonFile(path, Json{{"a", 1}}).ok());
  ASSERT_TRUE(WriteJsonFile(path, Json{{"b", "x"}}).ok());
  Json out;
  ASSERT_TRUE(ReadJsonFile(path, &out).ok());
  EXPECT_EQ(out, Json({{"b", "x"}}));
  EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0);
  std::remove(path.c_str());

  std::string nowhere = ::testing::TempDir() + "no_such_dir_for_json/x.json";
  Status st = WriteJsonFile(nowhere, out);
  EXPECT_TRUE(st.IsIOError());
  EXPECT_NE(st.message().find(nowhere + ".tmp"), std::string::npos) << st.message();
}

TEST(JsonFieldTest, DumpJsonFileMatchesPythonJsonDump) {
  // Expected text: json.dumps(d, sort_keys=True, indent=2) from Python 3.
  Json doc = Json::parse(R"({"b": 1, "a": {"é": "é ☃ 😀", "z": [1, 2.5, true, null]},
                             "c": [], "d": {}, "e": "\u007f\u0001\n\"\\/"})");
  const char* expected = R"({
  "a": {
    "z": [
      1,
      2.5,
      true,
      null
    ],
    "\u00e9": "\u00e9 \u2603 \ud83d\ude00"
  },
  "b": 1,
  "c": [],
  "d": {},
  "e": "\u007f\u0001\n\"\\/"
})";
  EXPECT_EQ(DumpJsonFile(doc), expected);
  EXPECT_EQ(DumpJsonFile(Json::object()), "{}");
  EXPECT_EQ(DumpJsonFile(Json("x")), "\"x\"");
}

TEST(JsonFieldTest, DumpJsonFileIndentsUpToItsBoundThenWritesCompact) {
  // A list of n numbers: each on a line of its own with 2 spaces (3 bytes),
  // and the closing bracket on a new line: 3n + 1 bytes of indentation.
  const size_t at_bound = (kMaxJsonIndentBytes - 1) / 3;
  ASSERT_EQ(3 * at_bound + 1, kMaxJsonIndentBytes);
  Json list = Json::array();
  for (size_t i = 0; i < at_bound; ++i) list.push_back(0);
  std::string indented = DumpJsonFile(list);
  EXPECT_EQ(indented, list.dump(2));
  EXPECT_EQ(indented.size(), list.dump().size() + kMaxJsonIndentBytes);
  list.push_back(0);
  EXPECT_EQ(DumpJsonFile(list), list.dump());
}

TEST(JsonFieldTest, DumpJsonFileOfADeeplyNestedDocumentStaysItsCompactSize) {
  // 7 MB of lists 120 deep: indented, each chunk of 240 bytes would take
  // about 29 KB, a gigabyte in all.
  std::string chunk = std::string(120, '[') + std::string(120, ']');
  std::string text = "{\"b\": 1, \"deep\": [";
  while (text.size() < (7 << 20)) text += chunk + ",";
  text += chunk + "]}";
  Json doc;
  ASSERT_TRUE(ParseJsonText(text, "doc", &doc).ok());
  std::string written = DumpJsonFile(doc);
  EXPECT_EQ(written.size(), doc.dump().size());
  EXPECT_LT(written.size(), text.size());
  Json back;
  ASSERT_TRUE(ParseJsonText(written, "back", &back).ok());
  EXPECT_EQ(back, doc);
}

TEST(TimestampTest, IsoUtcWithMicroseconds) {
  using namespace std::chrono;
  // 2024-01-02T03:04:05Z is 1704164645 seconds after the epoch.
  WallClock::time_point t{seconds(1704164645) + microseconds(7)};
  EXPECT_EQ(IsoUtc(t), "2024-01-02T03:04:05.000007Z");
  EXPECT_EQ(IsoUtc(WallClock::time_point{seconds(1704164645) + microseconds(999999)}),
            "2024-01-02T03:04:05.999999Z");
  EXPECT_EQ(IsoUtc(WallClock::time_point{}), "1970-01-01T00:00:00.000000Z");
  // Nanoseconds below a microsecond are dropped, not rounded.
  EXPECT_EQ(IsoUtc(WallClock::time_point{
                duration_cast<WallClock::duration>(seconds(1704164645) + nanoseconds(1999))}),
            "2024-01-02T03:04:05.000001Z");
  // Leap day.
  EXPECT_EQ(IsoUtc(WallClock::time_point{seconds(1709164800)}), "2024-02-29T00:00:00.000000Z");
}

// The hand-written date arithmetic agrees with gmtime_r over 1900-2199,
// every leap-year rule included.
TEST(TimestampTest, IsoUtcAgreesWithGmtime) {
  using namespace std::chrono;
  for (int64_t secs = -2208988800; secs < 7258118400; secs += 86400 * 7 + 3601) {
    time_t t = static_cast<time_t>(secs);
    struct tm tm;
    ASSERT_NE(gmtime_r(&t, &tm), nullptr);
    char expected[96];
    std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.000042Z",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    ASSERT_EQ(IsoUtc(WallClock::time_point{seconds(secs) + microseconds(42)}), expected) << secs;
  }
}

TEST(TimestampTest, IsoUtcBeforeTheEpoch) {
  using namespace std::chrono;
  EXPECT_EQ(IsoUtc(WallClock::time_point{microseconds(-1)}), "1969-12-31T23:59:59.999999Z");
}

TEST(TimestampTest, SecondsBetween) {
  using namespace std::chrono;
  WallClock::time_point a{seconds(100)};
  EXPECT_DOUBLE_EQ(SecondsBetween(a, a + milliseconds(1500)), 1.5);
  EXPECT_DOUBLE_EQ(SecondsBetween(a + seconds(2), a), -2.0);
  EXPECT_DOUBLE_EQ(SecondsBetween(a, a), 0.0);
}

// Hostile JSON gets one Invalid naming the source, never an exception or a
// crash: a number out of range, nesting past the bound, garbage.
TEST(JsonFieldTest, HostileTextIsOneInvalid) {
  Json out;
  Status st = ParseJsonText(R"({"a":1e999999})", "_context.json", &out);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message().rfind("_context.json: invalid JSON: ", 0), 0u) << st.message();
  std::string deep(100000, '[');
  st = ParseJsonText(deep + std::string(100000, ']'), "job.json", &out);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_NE(st.message().find("nested deeper than 128 levels"), std::string::npos) << st.message();
  std::string ok(kMaxJsonDepth, '[');
  EXPECT_TRUE(ParseJsonText(ok + std::string(kMaxJsonDepth, ']'), "x", &out).ok());
  // Brackets inside strings do not count.
  EXPECT_TRUE(ParseJsonText(R"(["[[[[[[", "\"[[[["])", "x", &out).ok());
  EXPECT_TRUE(ParseJsonText("{\"a\": tru", "x", &out).IsInvalid());
}

TEST(JsonFieldTest, ReadJsonFileNeverBlocksOnAFifo) {
  char tmpl[] = "/tmp/verdi-json-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string fifo = std::string(tmpl) + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  Json out;
  Status st = ReadJsonFile(fifo, &out);
  EXPECT_TRUE(st.IsInvalid()) << st.message();
  EXPECT_NE(st.message().find("not a regular file"), std::string::npos) << st.message();
  EXPECT_TRUE(ReadJsonFile(tmpl, &out).IsInvalid());  // a directory
  unlink(fifo.c_str());
  rmdir(tmpl);
}

}  // namespace
}  // namespace verdi
