#include "verdi/celery/result_document.h"

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "verdi/celery/task_message_testing.h"

namespace verdi {
namespace {

using namespace celery_testing;

std::string Hex(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

const WallClock::time_point kDone = Utc(2026, 11, 26, 12, 54, 22, 512138);

TEST(CeleryMessageResult, SuccessAsCeleryWritesIt) {
  // celery 5.2.6 cache backend, store_result('t-ok', {...}, 'SUCCESS', request with no
  // group/parent) stored exactly this, except date_done: 5.2 writes a naive
  // "2026-11-26T12:54:22.512138"; 5.6 (and verdi) add the +00:00.
  TaskMessage request;
  EXPECT_EQ(
      EncodeResult(Serializer::kJson, "t-ok", "SUCCESS", {{"files", {"a"}}, {"exit", 0}}, nullptr,
                   &request, kDone),
      R"({"status": "SUCCESS", "result": {"exit": 0, "files": ["a"]}, "traceback": null, )"
      R"("children": [], "date_done": "2026-11-26T12:54:22.512138+00:00", "task_id": "t-ok"})");
}

TEST(CeleryMessageResult, FailureWithGroupAndParent) {
  // Python: mark_as_failure('t-fail', RuntimeError('Got non-zero exit code: 3'),
  // traceback='Traceback...\n', request with group 'g-1' and parent 'p-1') stored
  // {"status": "FAILURE", "result": {"exc_type": "RuntimeError", "exc_message": ["Got non-zero
  // exit code: 3"], "exc_module": "builtins"}, "traceback": "Traceback...\n", "children": [],
  // "date_done": "...", "group_id": "g-1", "parent_id": "p-1", "task_id": "t-fail"}.
  // Checked once with Python: celery.backends.base's exception_to_python on
  // ExceptionResult("RuntimeError", "builtins", "Got non-zero exit code: 3") rebuilds
  // RuntimeError('Got non-zero exit code: 3').
  TaskMessage request;
  request.group_id = "g-1";
  request.parent_id = "p-1";
  Json exc = ExceptionResult("RuntimeError", "builtins", "Got non-zero exit code: 3");
  EXPECT_EQ(exc, Json::parse(R"({"exc_type": "RuntimeError",
      "exc_message": ["Got non-zero exit code: 3"], "exc_module": "builtins"})"));
  std::string doc =
      EncodeResult(Serializer::kJson, "t-fail", "FAILURE", exc, "Traceback...\n", &request, kDone);
  EXPECT_EQ(Json::parse(doc), Json::parse(R"({"status": "FAILURE", "result": {"exc_type":
      "RuntimeError", "exc_message": ["Got non-zero exit code: 3"], "exc_module": "builtins"},
      "traceback": "Traceback...\n", "children": [], "date_done": "2026-11-26T12:54:22.512138+00:00",
      "group_id": "g-1", "parent_id": "p-1", "task_id": "t-fail"})"));
  // Celery's key order.
  EXPECT_LT(doc.find("\"date_done\""), doc.find("\"group_id\""));
  EXPECT_LT(doc.find("\"group_id\""), doc.find("\"parent_id\""));
  EXPECT_LT(doc.find("\"parent_id\""), doc.find("\"task_id\""));
}

TEST(CeleryMessageResult, NotReadyHasNoDateAndNoRequestNoChildren) {
  // store_result('t-start', {"pid": 12, "hostname": "w@h"}, 'STARTED') without a request.
  EXPECT_EQ(EncodeResult(Serializer::kJson, "t-start", "STARTED",
                         {{"pid", 12}, {"hostname", "w@h"}}, nullptr, nullptr, kDone),
            R"({"status": "STARTED", "result": {"hostname": "w@h", "pid": 12}, "traceback": null, )"
            R"("children": null, "date_done": null, "task_id": "t-start"})");
  TaskMessage request;
  std::string revoked =
      EncodeResult(Serializer::kJson, "t-rev", "REVOKED",
                   ExceptionResult("TaskRevokedError", "celery.exceptions", "revoked"), nullptr,
                   &request, kDone);
  EXPECT_NE(revoked.find("\"date_done\": \"2026-11-26T12:54:22.512138+00:00\""), std::string::npos);
  std::string retry =
      EncodeResult(Serializer::kJson, "t-retry", "RETRY", nullptr, nullptr, &request, kDone);
  EXPECT_NE(retry.find("\"date_done\": null"), std::string::npos);
}

TEST(CeleryMessageResult, MsgpackSuccessIsKombusBytes) {
  // kombu.serialization.dumps(meta, serializer='msgpack') of the same SUCCESS
  // document (Python's dict order), checked once with Debian's kombu 5.2.4.
  TaskMessage request;
  EXPECT_EQ(Hex(EncodeResult(Serializer::kMsgpack, "t-ok", "SUCCESS",
                             {{"files", {"a"}}, {"exit", 0}}, nullptr, &request, kDone)),
            "86a6737461747573a753554343455353a6726573756c7482a46578697400a566696c657391a161a974"
            "726163656261636bc0a86368696c6472656e90a9646174655f646f6e65d920323032362d31312d3236"
            "5431323a35343a32322e3531323133382b30303a3030a77461736b5f6964a4742d6f6b");
}

TEST(CeleryMessageResult, MsgpackFailureHoldsTheJsonFields) {
  TaskMessage request;
  request.group_id = "g-1";
  request.parent_id = "p-1";
  Json exc = ExceptionResult("WorkerExecutionError", "hysds.job_worker", "bad");
  std::string packed =
      EncodeResult(Serializer::kMsgpack, "t-fail", "FAILURE", exc, "tb", &request, kDone);
  EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x88);  // a map of 8 fields
  Json doc;
  Status st = DecodeResult(packed, {Serializer::kMsgpack}, &doc);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(doc, Json::parse(EncodeResult(Serializer::kJson, "t-fail", "FAILURE", exc, "tb",
                                          &request, kDone)));
  EXPECT_EQ(ResultState(doc), "FAILURE");
}

TEST(CeleryMessageResult, DecodeTellsTheSerializerFromTheFirstByte) {
  TaskMessage request;
  std::vector<Serializer> both = {Serializer::kJson, Serializer::kMsgpack};
  for (Serializer s : both) {
    Json doc;
    std::string stored = EncodeResult(s, "t", "STARTED", {{"pid", 1}}, nullptr, &request, kDone);
    Status st = DecodeResult(stored, both, &doc);
    ASSERT_TRUE(st.ok()) << SerializerName(s) << ": " << st.message();
    EXPECT_EQ(ResultState(doc), "STARTED");
    EXPECT_EQ(doc["result"]["pid"], 1);
  }
  Json doc;
  EXPECT_TRUE(DecodeResult(" \n{\"status\": \"SUCCESS\"}", both, &doc).ok());
  EXPECT_EQ(ResultState(doc), "SUCCESS");
  // A map of 16 or more entries starts with 0xde.
  Json big = Json::object();
  for (int i = 0; i < 20; ++i) big["k" + std::to_string(i)] = i;
  big["status"] = "REVOKED";
  ASSERT_TRUE(DecodeResult(Serialize(Serializer::kMsgpack, big), both, &doc).ok());
  EXPECT_EQ(ResultState(doc), "REVOKED");
}

TEST(CeleryMessageResult, DecodeRefusesWhatIsNotAccepted) {
  TaskMessage request;
  Json doc;
  Status st =
      DecodeResult(EncodeResult(Serializer::kMsgpack, "t", "SUCCESS", 1, nullptr, &request, kDone),
                   {Serializer::kJson}, &doc);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(),
            "the stored result is msgpack, which result_accept_content (json) does not accept");
  st = DecodeResult(EncodeResult(Serializer::kJson, "t", "SUCCESS", 1, nullptr, &request, kDone),
                    {Serializer::kMsgpack}, &doc);
  EXPECT_EQ(st.message(),
            "the stored result is json, which result_accept_content (msgpack) does not accept");
  for (std::string garbage : {"", "42", "\x93\x01\x02\x03", "(dp0\n"}) {
    st = DecodeResult(garbage, {Serializer::kJson, Serializer::kMsgpack}, &doc);
    EXPECT_EQ(st.message(), "the stored result is neither a JSON object nor a msgpack map")
        << garbage;
  }
  st = DecodeResult("{\"status\": ", {Serializer::kJson}, &doc);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message().rfind("the stored result: body: invalid JSON", 0), 0u) << st.message();
  EXPECT_EQ(ResultState(Json::array()), "");
  EXPECT_EQ(ResultState(Json{{"status", 3}}), "");
}

TEST(CeleryMessageResult, ListsTheChildrenAsCeleryDoes) {
  TaskMessage t = {};
  t.id = "parent";
  t.children = {"c1", "c2"};
  std::string doc =
      EncodeResult(Serializer::kJson, "parent", "SUCCESS", 1, nullptr, &t, WallClock::now());
  EXPECT_EQ(Json::parse(doc)["children"],
            Json::parse(R"([[["c1", null], null], [["c2", null], null]])"));
  t.children.clear();
  doc = EncodeResult(Serializer::kJson, "parent", "SUCCESS", 1, nullptr, &t, WallClock::now());
  EXPECT_EQ(Json::parse(doc)["children"], Json::array());
}

}  // namespace
}  // namespace verdi
