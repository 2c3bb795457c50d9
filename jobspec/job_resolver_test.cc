#include "jobspec/job_resolver.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace verdi {
namespace {

using namespace std::chrono;

// 2024-01-02T03:04:05.000007Z
const WallClock::time_point kNow =
    sys_days{year{2024} / 1 / 2} + hours{3} + minutes{4} + seconds{5} + microseconds{7};

SubmitRequest Request() {
  SubmitRequest r;
  r.spec_file = "job-spec.json.test";
  r.io_file = "hysds-io.json.test";
  r.params_file = "params.json";
  r.type = "job-test:1";
  r.task_id = "task-1";
  return r;
}

struct Resolved {
  Status status;
  Json job;
  std::vector<std::string> notes;
};

Resolved Resolve(const Json& spec, const SubmitRequest& r, const HysdsIo* io = nullptr,
                 WallClock::time_point now = kNow) {
  Resolved out;
  out.status = ResolveJob(spec, io, r, now, &out.job, &out.notes);
  return out;
}

// The resolved job, which must resolve.
Json Job(const Json& spec, const SubmitRequest& r, const HysdsIo* io = nullptr) {
  Resolved res = Resolve(spec, r, io);
  EXPECT_TRUE(res.status.ok()) << res.status.message();
  return res.job;
}

std::string Rejection(const Json& spec, const SubmitRequest& r, const HysdsIo* io = nullptr) {
  Resolved res = Resolve(spec, r, io);
  EXPECT_TRUE(res.status.IsInvalid()) << "resolved: " << res.job;
  return res.status.message();
}

HysdsIo Io(const Json& doc) {
  HysdsIo io;
  Status st = ParseHysdsIo(JsonField(&doc, "hysds-io"), &io);
  EXPECT_TRUE(st.ok()) << st.message();
  return io;
}

// A job-spec with one param per (name, destination).
Json Spec(std::vector<std::pair<std::string, std::string>> params, std::string command = "run") {
  Json spec = {{"command", command}, {"params", Json::array()}};
  for (const auto& [name, dest] : params)
    spec["params"].push_back({{"name", name}, {"destination", dest}});
  return spec;
}

TEST(ResolveJobTest, WholeJob) {
  Json spec = Json::parse(R"({
    "command": "/bin/echo", "disk_usage": "1GB", "soft_time_limit": 3600, "time_limit": 3700,
    "recommended-queues": ["small", "large"],
    "imported_worker_files": {"$HOME/.netrc": "/home/ops/.netrc"},
    "runtime_options": {"gpus": "all"},
    "dependency_images": [{"container_image_name": "dep:1", "container_image_url": null}],
    "params": [{"name": "greeting", "destination": "positional"},
               {"name": "input", "destination": "localize"},
               {"name": "mode", "destination": "context"}]})");
  SubmitRequest r = Request();
  r.params = {
      {"greeting", "hi"}, {"input", "https://example.com/a.txt"}, {"mode", {{"fast", true}}}};
  r.tag = "t1";
  r.username = "ops";
  r.priority = 3;
  Json expected = Json::parse(R"({
    "job_id": "job-test__1-20240102T030405.7Z",
    "name": "job-test__1-20240102T030405.7Z",
    "type": "job-test:1",
    "task_id": "task-1",
    "priority": 3,
    "tag": "t1",
    "username": "ops",
    "context": {},
    "localize_urls": [{"url": "https://example.com/a.txt"}],
    "container_mappings": {"$HOME/.netrc": "/home/ops/.netrc"},
    "runtime_options": {"gpus": "all"},
    "params": {
      "_command": "/bin/echo 'hi'",
      "_disk_usage": "1GB",
      "localize_urls": [{"url": "https://example.com/a.txt"}],
      "container_specification": null,
      "greeting": "hi",
      "mode": {"fast": true},
      "tag": "t1"
    },
    "job_info": {
      "id": "job-test__1-20240102T030405.7Z",
      "job_queue": "small",
      "time_queued": "2024-01-02T03:04:05.000007Z",
      "index": "job_status-2024.01.02",
      "time_limit": 3900,
      "soft_time_limit": 3600,
      "payload_hash": "05060b3f4900ee0ffae51927c07586db",
      "dedup": true,
      "job_payload": {"job_type": "job:job-test:1", "payload_task_id": "task-1"}
    }
  })");
  expected["params"]["job_specification"] = spec;
  Resolved res = Resolve(spec, r);
  ASSERT_TRUE(res.status.ok()) << res.status.message();
  EXPECT_EQ(res.job, expected) << res.job.dump(2);
  EXPECT_TRUE(res.notes.empty());
}

TEST(ResolveJobTest, PositionalValuesAreQuotedAndNonStringsJsonEncoded) {
  Json spec = Spec({{"s", "positional"},
                    {"q", "positional"},
                    {"i", "positional"},
                    {"f", "positional"},
                    {"big", "positional"},
                    {"b", "positional"},
                    {"n", "positional"},
                    {"o", "positional"},
                    {"l", "positional"},
                    {"e", "positional"}},
                   "/bin/run -x");
  SubmitRequest r = Request();
  r.params = Json::parse(R"({"s": "two words", "q": "it's", "i": 3, "f": 2.5, "big": 1e15,
    "b": true, "n": null, "o": {"k": ["\u00e9"], "a": 1}, "l": ["a", "b'c"], "e": ""})");
  Json job = Job(spec, r);
  EXPECT_EQ(job["params"]["_command"],
            "/bin/run -x 'two words' 'it'\"'\"'s' '3' '2.5' '1000000000000000.0' 'true' 'null' "
            "'{\"a\": 1, \"k\": [\"\\u00e9\"]}' '[\"a\", \"b'\"'\"'c\"]' ''");
  // Stored by name as given.
  for (const auto& [key, value] : r.params.items()) EXPECT_EQ(job["params"][key], value) << key;
}

TEST(ResolveJobTest, LocalizeFlattensUrlsObjectsAndLists) {
  Json spec = Spec({{"a", "localize"}, {"b", "localize"}, {"c", "localize"}});
  SubmitRequest r = Request();
  r.params = Json::parse(R"({
    "a": "s3://bucket/a",
    "b": {"url": "https://h/b", "local_path": "in/", "cache": false},
    "c": [["ftp://h/c1"], {"url": "file:///c2"}, []]})");
  Json job = Job(spec, r);
  Json expected = Json::parse(R"([{"url": "s3://bucket/a"},
    {"url": "https://h/b", "local_path": "in/", "cache": false},
    {"url": "ftp://h/c1"}, {"url": "file:///c2"}])");
  EXPECT_EQ(job["localize_urls"], expected);
  EXPECT_EQ(job["params"]["localize_urls"], expected);
  EXPECT_FALSE(job["params"].contains("a"));  // localize params are not stored by name
  EXPECT_EQ(job["params"]["_command"], "run");
}

TEST(ResolveJobTest, LocalizeRejections) {
  Json spec = Spec({{"in", "localize"}});
  auto rejection = [&](const char* value) {
    SubmitRequest r = Request();
    r.params = {{"in", Json::parse(value)}};
    return Rejection(spec, r);
  };
  EXPECT_EQ(rejection("42"),
            "params.json: params.in: param 'in': cannot be localized: expected a URL, an object "
            "with a \"url\" or a list of them, got 42");
  EXPECT_EQ(rejection(R"(["s3://x", [{"local_path": "a"}]])"),
            "params.json: params.in[1][0]: param 'in': cannot be localized: expected a URL, an "
            "object with a \"url\" or a list of them, got an object");
  EXPECT_EQ(rejection(R"({"url": 7})"),
            "params.json: params.in.url: param 'in': cannot be localized: expected a URL, got 7");
  EXPECT_EQ(rejection(R"({"url": "s3://x", "cache": "no"})"),
            "params.json: params.in.cache: param 'in': expected true or false, got \"no\"");
  EXPECT_EQ(rejection(R"("")"),
            "params.json: params.in: param 'in': cannot be localized: expected a URL, an object "
            "with a \"url\" or a list of them, got \"\"");
}

TEST(ResolveJobTest, ContextParamsGoToParamsOnlyAndNeverOverwriteReservedKeys) {
  Json spec = Spec({{"mode", "context"},
                    {"_command", "context"},
                    {"localize_urls", "context"},
                    {"job_specification", "positional"},
                    {"tag", "context"}});
  SubmitRequest r = Request();
  r.params = {{"mode", 1},
              {"_command", "rm -rf /"},
              {"localize_urls", "x"},
              {"job_specification", "y"},
              {"tag", "from-param"}};
  r.tag = "from-flag";
  Resolved res = Resolve(spec, r);
  ASSERT_TRUE(res.status.ok()) << res.status.message();
  const Json& params = res.job["params"];
  EXPECT_EQ(params["mode"], 1);
  EXPECT_EQ(params["_command"], "run 'y'");  // the positional still reaches the command
  EXPECT_EQ(params["localize_urls"], Json::array());
  EXPECT_EQ(params["job_specification"], spec);
  EXPECT_EQ(params["tag"], "from-param");  // as HySDS: the param wins over the job's tag
  EXPECT_EQ(res.job["tag"], "from-flag");
  EXPECT_EQ(res.job["context"], Json::object());
  EXPECT_EQ(res.notes, (std::vector<std::string>{
                           "job-spec.json.test: job-spec.params[1]: param '_command': not stored "
                           "in params: the key is reserved",
                           "job-spec.json.test: job-spec.params[2]: param 'localize_urls': not "
                           "stored in params: the key is reserved",
                           "job-spec.json.test: job-spec.params[3]: param 'job_specification': "
                           "not stored in params: the key is reserved"}));
}

TEST(ResolveJobTest, ValueSourcesInOrder) {
  Json spec = Spec({{"cli", "positional"},
                    {"file", "positional"},
                    {"fixed", "positional"},
                    {"dflt", "positional"},
                    {"opt", "positional"},
                    {"opt_blank", "context"}});
  HysdsIo io = Io(Json::parse(R"({"params": [
    {"name": "cli", "from": "value", "value": "io-value"},
    {"name": "file", "from": "submitter", "type": "number", "default": "1"},
    {"name": "fixed", "from": "value", "value": 5, "default": "ignored"},
    {"name": "dflt", "from": "submitter", "default": "d"},
    {"name": "opt", "from": "submitter", "optional": true},
    {"name": "opt_blank", "from": "submitter", "type": "number", "optional": true, "default": " "}
  ]})"));
  SubmitRequest r = Request();
  r.params = {{"cli", "from-file"}, {"file", "7"}, {"unknown", 1}};
  r.param_strings = {{"cli", "first"}, {"cli", "from-flag"}};
  Resolved res = Resolve(spec, r, &io);
  ASSERT_TRUE(res.status.ok()) << res.status.message();
  const Json& params = res.job["params"];
  EXPECT_EQ(params["_command"], "run 'from-flag' '7' '5' 'd'");
  EXPECT_EQ(params["cli"], "from-flag");
  EXPECT_EQ(params["file"], "7");  // the caller's value is not converted
  EXPECT_EQ(params["fixed"], 5);
  EXPECT_EQ(params["dflt"], "d");
  EXPECT_FALSE(params.contains("opt"));  // optional without default: skipped
  EXPECT_EQ(params["opt_blank"], "");    // optional with a blank default: ""
  EXPECT_EQ(res.notes, (std::vector<std::string>{
                           "params.json: params.unknown: not a param of job-spec.json.test; "
                           "ignored"}));
}

TEST(ResolveJobTest, DefaultsAreTypeConverted) {
  Json spec = Spec({{"n", "context"},
                    {"n2", "context"},
                    {"b", "context"},
                    {"b2", "context"},
                    {"r", "context"},
                    {"o", "context"},
                    {"t", "context"},
                    {"d", "context"}});
  HysdsIo io = Io(Json::parse(R"({"params": [
    {"name": "n", "from": "submitter", "type": "number", "default": " 3 "},
    {"name": "n2", "from": "submitter", "type": "number", "default": 2},
    {"name": "b", "from": "submitter", "type": "boolean", "default": "True"},
    {"name": "b2", "from": "submitter", "type": "boolean", "default": "false"},
    {"name": "r", "from": "submitter", "type": "region", "default": "{\"type\": \"Polygon\"}"},
    {"name": "o", "from": "submitter", "type": "object", "default": "[1, {\"a\": null}]"},
    {"name": "t", "from": "submitter", "default": "{\"a\": 1}"},
    {"name": "d", "from": "submitter", "type": "datetime", "default": "2024-01-01T00:00:00Z"}
  ]})"));
  Json params = Job(spec, Request(), &io)["params"];
  EXPECT_EQ(params["n"].dump(), "3.0");  // float, as Python's float()
  EXPECT_EQ(params["n2"].dump(), "2.0");
  EXPECT_EQ(params["b"], true);
  EXPECT_EQ(params["b2"], false);
  EXPECT_EQ(params["r"], Json::parse(R"({"type": "Polygon"})"));
  EXPECT_EQ(params["o"], "[1, {\"a\": null}]");  // run_type_conversion leaves objects alone
  EXPECT_EQ(params["t"], "{\"a\": 1}");
  EXPECT_EQ(params["d"], "2024-01-01T00:00:00Z");
}

// resolve_mozart_job's get_inputs with a product: dataset_jpath params take
// their value from the dataset, converted by type; a fixed value wins.
TEST(ResolveJobTest, DatasetJpathValuesFromTheDataset) {
  Json spec = Spec({{"whole", "context"},
                    {"id", "positional"},
                    {"urls", "localize"},
                    {"track", "context"},
                    {"missing_opt", "context"},
                    {"fixed", "context"},
                    {"given", "context"},
                    {"flag", "context"}});
  HysdsIo io = Io(Json::parse(R"({"params": [
    {"name": "whole", "from": "dataset_jpath:"},
    {"name": "id", "from": "dataset_jpath:_id"},
    {"name": "urls", "from": "dataset_jpath:_source.urls"},
    {"name": "track", "from": "dataset_jpath:_source.metadata.track", "type": "number"},
    {"name": "missing_opt", "from": "dataset_jpath:_source.nothing", "optional": true},
    {"name": "fixed", "from": "dataset_jpath:_id", "value": "fixed"},
    {"name": "given", "from": "dataset_jpath:_id"},
    {"name": "flag", "from": "value", "type": "boolean", "value": "False"}
  ]})"));
  SubmitRequest r = Request();
  r.as_rule = true;
  r.dataset_file = "dataset.json";
  r.dataset = Json::parse(
      R"({"_id": "P1", "_source": {"urls": ["http://h/P1"], "metadata": {"track": "42"}}})");
  r.param_strings = {{"given", "from-flag"}};
  Json job = Job(spec, r, &io);
  const Json& params = job["params"];
  EXPECT_EQ(params["whole"], *r.dataset);
  EXPECT_EQ(params["_command"], "run 'P1'");
  EXPECT_EQ(job["localize_urls"], Json::parse(R"([{"url": "http://h/P1"}])"));
  EXPECT_EQ(params["track"].dump(), "42.0");
  EXPECT_EQ(params["missing_opt"], "");
  EXPECT_EQ(params["fixed"], "fixed");
  EXPECT_EQ(params["given"], "P1");  // get_inputs: a dataset_jpath param ignores the caller
  EXPECT_EQ(params["flag"], false);  // a fixed value is converted too

  // A list of datasets aggregates: each dataset_jpath param is the list.
  r.dataset = Json::parse(R"([{"_id": "P1", "_source": {"urls": ["u1"], "metadata": {"track": 1}}},
                              {"_id": "P2", "_source": {"urls": ["u2"], "metadata": {"track": 2}}}])");
  job = Job(spec, r, &io);
  EXPECT_EQ(job["params"]["_command"], "run '[\"P1\", \"P2\"]'");
  EXPECT_EQ(job["params"]["track"].dump(), "[1.0,2.0]");
  EXPECT_EQ(job["params"]["missing_opt"], Json::parse(R"(["", ""])"));
  EXPECT_EQ(job["localize_urls"], Json::parse(R"([{"url": "u1"}, {"url": "u2"}])"));
}

TEST(ResolveJobTest, DatasetJpathRejections) {
  Json spec = Spec({{"x", "context"}});
  SubmitRequest r = Request();
  r.as_rule = true;
  r.dataset_file = "dataset.json";
  r.dataset = Json::parse(R"({"_id": "P1", "_source": {"urls": ["u"]}})");
  HysdsIo io = Io({{"params", {{{"name", "x"}, {"from", "dataset_jpath:_source.nothing"}}}}});
  EXPECT_EQ(Rejection(spec, r, &io),
            "dataset.json: param 'x': Failed to find 'x' input from "
            "'dataset_jpath:_source.nothing'");
  io = Io({{"params", {{{"name", "x"}, {"from", "dataset_jpath:_source.urls.name"}}}}});
  EXPECT_EQ(Rejection(spec, r, &io),
            "dataset.json: param 'x': dataset_jpath:_source.urls.name: `name`: cannot take a key "
            "of a list");
  r.dataset = Json::array({Json::object(), {{"_id", "P2"}}});
  io = Io({{"params", {{{"name", "x"}, {"from", "dataset_jpath:_id"}}}}});
  EXPECT_EQ(Rejection(spec, r, &io),
            "dataset.json[0]: param 'x': Failed to find 'x' input from 'dataset_jpath:_id'");
  // Without a dataset, the default stands in.
  io = Io({{"params", {{{"name", "x"}, {"from", "dataset_jpath:_id"}, {"default", "d"}}}}});
  r.dataset.reset();
  EXPECT_EQ(Job(spec, r, &io)["params"]["x"], "d");
  EXPECT_EQ(Job(spec, Request(), &io)["params"]["x"], "d");
}

TEST(ResolveJobTest, DefaultConversionRejections) {
  Json spec = Spec({{"x", "context"}});
  auto rejection = [&](const char* type, Json value) {
    HysdsIo io = Io(
        {{"params", {{{"name", "x"}, {"from", "submitter"}, {"type", type}, {"default", value}}}}});
    return Rejection(spec, Request(), &io);
  };
  EXPECT_EQ(rejection("number", "abc"),
            "hysds-io.json.test: hysds-io.params[0].default: param 'x': type number: expected a "
            "number, got \"abc\"");
  EXPECT_EQ(rejection("number", "inf"),
            "hysds-io.json.test: hysds-io.params[0].default: param 'x': type number: expected a "
            "number, got \"inf\"");
  EXPECT_EQ(rejection("number", "0x10"),
            "hysds-io.json.test: hysds-io.params[0].default: param 'x': type number: expected a "
            "number, got \"0x10\"");
  EXPECT_EQ(rejection("boolean", "yes"),
            "hysds-io.json.test: hysds-io.params[0].default: param 'x': type boolean: expected "
            "\"true\" or \"false\", got \"yes\"");
  EXPECT_EQ(rejection("region", "{not json"),
            "hysds-io.json.test: hysds-io.params[0].default: param 'x': type region: expected "
            "JSON text, got \"{not json\"");
}

TEST(ResolveJobTest, MissingParam) {
  Json spec = Spec({{"a", "positional"}, {"b", "positional"}});
  SubmitRequest r = Request();
  r.params = {{"a", "x"}};
  EXPECT_EQ(Rejection(spec, r),
            "job-spec.json.test: job-spec.params[1]: param 'b': params must specify 'b': give "
            "--param b=VALUE or a --params file with it, or a --hysds-io with a default");
  HysdsIo io = Io({{"params", {{{"name", "b"}, {"from", "submitter"}}}}});
  EXPECT_EQ(Rejection(spec, r, &io),
            "job-spec.json.test: job-spec.params[1]: param 'b': params must specify 'b': give "
            "--param b=VALUE or a --params file with it (hysds-io.json.test has no value or "
            "default for it)");
}

TEST(ResolveJobTest, WithARunnerLambdasRunOnEveryValue) {
  Json spec = Spec({{"given", "context"},
                    {"fixed", "context"},
                    {"ids", "context"},
                    {"opt", "context"},
                    {"plain", "context"},
                    {"fails", "context"}});
  HysdsIo io = Io(Json::parse(R"({"params": [
    {"name": "given", "from": "submitter", "lambda": "lambda x: x"},
    {"name": "fixed", "from": "value", "value": "v", "lambda": "lambda x: x"},
    {"name": "ids", "from": "dataset_jpath:_id", "lambda": "lambda x: x"},
    {"name": "opt", "from": "submitter", "optional": true, "lambda": "lambda x: x"},
    {"name": "plain", "from": "submitter", "default": "p"},
    {"name": "fails", "from": "submitter", "default": "f", "lambda": "lambda x: boom"}
  ]})"));
  SubmitRequest r = Request();
  r.as_rule = true;
  r.param_strings = {{"given", "g"}};
  r.dataset = Json::parse(R"([{"_id": "P1"}, {"_id": "P2"}])");
  r.dataset_file = "hits.json";
  std::vector<std::string> calls;
  r.run_lambda = [&](const HysdsIoParam& wire, const Json& value, Json* out) {
    calls.push_back(wire.name + "=" + value.dump());
    if (wire.name == "fails") return Status::Invalid("<class 'NameError'>:name 'boom'");
    *out = Json::array({"ran", value});
    return Status::OK();
  };
  Resolved res = Resolve(spec, r, &io);
  EXPECT_EQ(res.status.message(),
            "hysds-io.json.test: hysds-io.params[5].lambda: param 'fails': <class "
            "'NameError'>:name 'boom'");
  EXPECT_EQ(calls, (std::vector<std::string>{"given=\"g\"", "fixed=\"v\"", "ids=\"P1\"",
                                             "ids=\"P2\"", "opt=\"\"", "fails=\"f\""}));
  io.params.pop_back();
  spec["params"].erase(5);
  Json params = Job(spec, r, &io)["params"];
  EXPECT_EQ(params["given"], Json::parse(R"(["ran", "g"])"));
  EXPECT_EQ(params["ids"], Json::parse(R"([["ran", "P1"], ["ran", "P2"]])"));
  EXPECT_EQ(params["opt"], Json::parse(R"(["ran", ""])"));
  EXPECT_EQ(params["plain"], "p");
}

TEST(ResolveJobTest, LambdasAreNotRunButNotedOnce) {
  Json spec = Spec({{"x", "positional"}, {"x", "context"}});
  HysdsIo io = Io(Json::parse(R"js({"params": [
    {"name": "x", "from": "submitter", "default": "v", "lambda": "lambda x: x.upper()"
}]
})js"));
  Resolved res = Resolve(spec, Request(), &io);
  ASSERT_TRUE(res.status.ok()) << res.status.message();
  EXPECT_EQ(res.job["params"]["_command"], "run 'v'");
  EXPECT_EQ(res.notes,
            (std::vector<std::string>{
                "hysds-io.json.test: hysds-io.params[0].lambda: param 'x': not run, "
                "as in HySDS's REST submission (--as-rule runs it); the value is used as it is"}));
}

TEST(ResolveJobTest, TimeLimitsAndTheGap) {
  struct Case {
    Json spec_soft, spec_hard;
    std::optional<int64_t> soft, hard;
    int64_t gap;
    Json want_soft, want_hard;
  };
  const Case cases[] = {
      {nullptr, nullptr, {}, {}, 300, nullptr, nullptr},
      {3600, 7200, {}, {}, 300, 3600, 7200},  // gap respected
      {3600, 3900, {}, {}, 300, 3600, 3900},  // exactly soft + gap: set to soft + gap
      {3600, 3700, {}, {}, 300, 3600, 3900},  // too close: raised
      {3600, nullptr, {}, {}, 300, 3600, 3900},
      {nullptr, 100, {}, {}, 300, nullptr, 100},  // no soft limit: the hard one as is
      {3600, 7200, 60, {}, 300, 60, 7200},        // the request wins
      {3600, 7200, 60, 90, 300, 60, 360},
      {3600, 3700, {}, {}, 60, 3600, 3700},  // --hard-time-limit-gap
      {nullptr, nullptr, 0, {}, 300, 0, 300},
  };
  for (const Case& c : cases) {
    Json spec = Spec({});
    if (!c.spec_soft.is_null()) spec["soft_time_limit"] = c.spec_soft;
    if (!c.spec_hard.is_null()) spec["time_limit"] = c.spec_hard;
    SubmitRequest r = Request();
    r.soft_time_limit = c.soft;
    r.time_limit = c.hard;
    r.hard_time_limit_gap = c.gap;
    Json info = Job(spec, r)["job_info"];
    EXPECT_EQ(info["soft_time_limit"], c.want_soft) << spec;
    EXPECT_EQ(info["time_limit"], c.want_hard) << spec;
  }
}

TEST(ResolveJobTest, QueueDefaultsAndSpellings) {
  SubmitRequest r = Request();
  for (const char* key :
       {"recommended-queues", "recommended_queues", "required-queues", "required_queues"}) {
    Json spec = Spec({});
    spec[key] = {"q1", "q2"};
    EXPECT_EQ(Job(spec, r)["job_info"]["job_queue"], "q1") << key;
  }
  Json spec = Spec({});
  EXPECT_EQ(Job(spec, r)["job_info"]["job_queue"], "celery");
  spec["recommended-queues"] = Json::array();
  spec["required_queues"] = {"req"};
  EXPECT_EQ(Job(spec, r)["job_info"]["job_queue"], "req");
  r.queue = "mine";
  EXPECT_EQ(Job(spec, r)["job_info"]["job_queue"], "mine");
  spec["recommended_queues"] = "small";
  r.queue = "";
  EXPECT_EQ(Rejection(spec, r),
            "job-spec.json.test: job-spec.recommended_queues: expected a list, got \"small\"");
}

TEST(ResolveJobTest, RepeatedKeysLastOneWins) {
  Json spec;
  ASSERT_TRUE(ParseJsonText(R"({"command": "first", "params": [], "command": "second",
    "params": [{"name": "x", "destination": "context"}, {"name": "x", "destination": "positional"}]})",
                            "spec", &spec)
                  .ok());
  SubmitRequest r = Request();
  r.param_strings = {{"x", "1"}};
  Json job = Job(spec, r);
  EXPECT_EQ(job["params"]["_command"], "second '1'");
  EXPECT_EQ(job["params"]["job_specification"]["command"], "second");
}

TEST(ResolveJobTest, JobIdNameTypeAndTimestamp) {
  Json spec = Spec({});
  SubmitRequest r = Request();
  r.type = "job:job-hello_world:develop";  // the job_type form is accepted
  Json job = Job(spec, r);
  EXPECT_EQ(job["type"], "job-hello_world:develop");
  EXPECT_EQ(job["job_info"]["job_payload"]["job_type"], "job:job-hello_world:develop");
  EXPECT_EQ(job["job_id"], "job-hello_world__develop-20240102T030405.7Z");

  r.name = "my:run:1";
  Resolved res = Resolve(spec, r, nullptr, sys_days{year{2023} / 12 / 31} + hours{23});
  ASSERT_TRUE(res.status.ok());
  EXPECT_EQ(res.job["job_id"], "my__run__1-20231231T230000.0Z");
  EXPECT_EQ(res.job["name"], res.job["job_id"]);
  EXPECT_EQ(res.job["job_info"]["index"], "job_status-2023.12.31");
  EXPECT_EQ(res.job["job_info"]["time_queued"], "2023-12-31T23:00:00.000000Z");

  res = Resolve(spec, r, nullptr, sys_days{year{2024} / 2 / 29} + microseconds{123456});
  EXPECT_EQ(res.job["job_id"], "my__run__1-20240229T000000.123456Z");

  r.name = "a/b";
  EXPECT_EQ(Rejection(spec, r).substr(0, 8), "--name: ");
  r.name = "";
  r.type = "";
  EXPECT_EQ(Rejection(spec, r), "--type: expected a job type such as \"job-hello_world:develop\"");
}

TEST(ResolveJobTest, RequestRejections) {
  Json spec = Spec({});
  SubmitRequest r = Request();
  r.disk_usage = "10 GB";
  EXPECT_EQ(Rejection(spec, r).substr(0, 14), "--disk-usage: ");
  r = Request();
  r.priority = 256;
  EXPECT_EQ(Rejection(spec, r), "--priority: expected 0 to 255, got 256");
  r = Request();
  r.soft_time_limit = -1;
  EXPECT_EQ(Rejection(spec, r), "--soft-time-limit: expected seconds, 0 or more, got -1");
  r = Request();
  r.task_id = "";
  EXPECT_EQ(Rejection(spec, r), "--task-id: expected a task id, got \"\"");
  r = Request();
  r.container_image_url = "s3://x";
  EXPECT_EQ(Rejection(spec, r), "--container-image-url: needs --container-image NAME");
  EXPECT_EQ(Rejection({{"params", Json::array()}}, Request()),
            "job-spec.json.test: job-spec.command: is missing, expected a string");
}

TEST(ResolveJobTest, DiskUsageDedupAndContainer) {
  Json spec = Spec({});
  spec["disk_usage"] = "10GB";
  SubmitRequest r = Request();
  EXPECT_EQ(Job(spec, r)["params"]["_disk_usage"], "10GB");
  r.disk_usage = "2MB";
  r.dedup = false;
  r.container_image_name = "hello:1";
  r.container_image_url = "s3://b/hello-1.tar.gz";
  Json job = Job(spec, r);
  EXPECT_EQ(job["params"]["_disk_usage"], "2MB");
  EXPECT_EQ(job["job_info"]["dedup"], false);
  EXPECT_EQ(job["container_image_name"], "hello:1");
  EXPECT_EQ(job["container_image_url"], "s3://b/hello-1.tar.gz");
  EXPECT_EQ(job["params"]["container_specification"],
            Json::parse(R"({"id": "hello:1", "url": "s3://b/hello-1.tar.gz"})"));

  HysdsIo io = Io({{"params", Json::array()}, {"enable_dedup", false}});
  EXPECT_EQ(Job(Spec({}), Request(), &io)["job_info"]["dedup"], false);
  EXPECT_TRUE(Job(Spec({}), Request())["params"]["_disk_usage"].is_null());
}

TEST(PayloadHashTest, MatchesPython) {
  // hashlib.md5(json.dumps(p, sort_keys=True).encode()).hexdigest() in Python 3.11.
  EXPECT_EQ(PayloadHash(Json::object()), "99914b932bd37a50b983c5e7c90ae93b");
  Json payload = Json::parse(R"({"b": 1.0, "a": "\u00e9", "_disk_usage": "1GB",
    "_sciflo_wuid": "w", "_sciflo_job_num": 2,
    "n": [1e15, 1.5e-07, 12345678901234567, -0.0, true, null, 1234567890123456.7, 1e16, 0.0001,
          1e-05],
    "s": "quote\" back\\ ctl\u0001 del\u007f \ud83d\ude00"})");
  EXPECT_EQ(PayloadHash(payload), "0344378445e8dfba3a22a66abee844e3");
}

TEST(DefaultJobTypeTest, FromTheFileName) {
  EXPECT_EQ(DefaultJobType("examples/hello_world/job-spec.json.hello_world"),
            "job-hello_world:latest");
  EXPECT_EQ(DefaultJobType("job-spec.json.x"), "job-x:latest");
  EXPECT_EQ(DefaultJobType("job-spec.json."), "");
  EXPECT_EQ(DefaultJobType("spec.json"), "");
  EXPECT_EQ(DefaultJobType("job-spec.json.d/other"), "");
}

}  // namespace
}  // namespace verdi
