#include "jobspec/lint.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace verdi {
namespace {

using Lines = std::vector<std::string>;

Lines Check(LintKind kind, const std::string& text, const std::string& file = "f") {
  std::vector<Finding> findings;
  Json doc;
  if (ParseForLint(text, file, LintKindName(kind), &doc, &findings))
    Lint(kind, doc, file, &findings);
  Lines lines;
  for (const Finding& f : findings) lines.push_back(f.Line());
  return lines;
}

std::string ReadRepoFile(const std::string& relative) {
  std::ifstream in(std::string(VERDI_SOURCE_DIR) + "/" + relative);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(LintTest, ExamplesAreClean) {
  std::string spec = ReadRepoFile("examples/hello_world/job-spec.json.hello_world");
  std::string io = ReadRepoFile("examples/hello_world/hysds-io.json.hello_world");
  EXPECT_EQ(Check(LintKind::kJobSpec, spec), Lines{});
  EXPECT_EQ(Check(LintKind::kHysdsIo, io), Lines{});
  EXPECT_EQ(Check(LintKind::kJob, ReadRepoFile("examples/hello_world/test_job.json")), Lines{});
  std::vector<Finding> findings;
  LintSpecAgainstIo(Json::parse(spec), "s", Json::parse(io), "i", &findings);
  EXPECT_TRUE(findings.empty());
}

TEST(LintTest, InvalidJson) {
  Lines lines = Check(LintKind::kJob, "{\"job_id\": ");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].starts_with("error: f: job: invalid JSON: ")) << lines[0];
}

TEST(LintTest, WrongTypesAreAllReported) {
  EXPECT_EQ(
      Check(LintKind::kJobSpec, R"({"command": 42, "params": {}, "disable_pre_builtins": "no"})"),
      (Lines{"error: f: job-spec.command: got 42 (expected a string)",
             "error: f: job-spec.params: got an object (expected a list of {name, destination})",
             "error: f: job-spec.disable_pre_builtins: got \"no\" (expected true or false)"}));
}

TEST(LintTest, MissingRequired) {
  EXPECT_EQ(Check(LintKind::kJobSpec, R"({"params": []})"),
            Lines{"error: f: job-spec.command: is missing (expected a string)"});
}

TEST(LintTest, UnknownDestination) {
  EXPECT_EQ(Check(LintKind::kJobSpec,
                  R"({"command": "x", "params": [{"name": "a", "destination": "positionl"}]})"),
            Lines{"error: f: job-spec.params[0].destination: got \"positionl\" (expected "
                  "\"positional\", \"localize\" or \"context\")"});
}

TEST(LintTest, UnknownFrom) {
  EXPECT_EQ(
      Check(LintKind::kHysdsIo, R"({"params": [{"name": "a", "from": "dataset_jpath"}]})"),
      Lines{
          "error: f: hysds-io.params[0].from: got \"dataset_jpath\" (expected \"value\", "
          "\"submitter\", \"passthrough\" or \"dataset_jpath:<path>\", the path possibly empty)"});
}

TEST(LintTest, EveryResolverFromIsClean) {
  EXPECT_EQ(Check(LintKind::kHysdsIo, R"({"params": [
    {"name": "a", "from": "dataset_jpath:"},
    {"name": "b", "from": "dataset_jpath:_source.urls.0"},
    {"name": "c", "from": "passthrough"}]})"),
            Lines{});
}

TEST(LintTest, FromTheSchemaAcceptsButTheResolverDoesNotKnow) {
  EXPECT_EQ(Check(LintKind::kHysdsIo,
                  R"({"params": [{"name": "a", "from": "submitter_input", "default": "x"}]})"),
            Lines{"warning: f: hysds-io.params[0].from: \"submitter_input\" is no source HySDS's "
                  "resolver knows: the param only ever gets its value or default (expected "
                  "\"value\", \"submitter\", \"passthrough\" or \"dataset_jpath:<path>\", the path "
                  "possibly empty)"});
}

TEST(LintTest, DefaultTypesAsHysdsSchema) {
  EXPECT_EQ(Check(LintKind::kHysdsIo, R"({"params": [
    {"name": "a", "from": "submitter", "type": "object", "default": "invalid_value"},
    {"name": "b", "from": "submitter", "type": "object", "default": {"a": "x"}},
    {"name": "c", "from": "submitter", "type": "object", "default": [1, 2]},
    {"name": "d", "from": "submitter", "type": "number", "default": 3},
    {"name": "e", "from": "submitter", "type": "number", "default": "3"},
    {"name": "f", "from": "submitter", "default": null}]})"),
            (Lines{"error: f: hysds-io.params[0].default: got \"invalid_value\" (expected a list "
                   "or an object, since type is object)",
                   "warning: f: hysds-io.params[3].default: got 3 (expected text, as HySDS's "
                   "schema says for type number)"}));
}

TEST(LintTest, DiskSize) {
  EXPECT_EQ(Check(LintKind::kJobSpec, R"({"command": "x", "params": [], "disk_usage": "10 GB"})"),
            Lines{"error: f: job-spec.disk_usage: expected a size such as \"10GB\" (a number then "
                  "KB, MB, GB or TB), got \"10 GB\""});
}

TEST(LintTest, RegexDoesNotCompile) {
  EXPECT_EQ(Check(LintKind::kDatasets,
                  R"({"datasets": [{"ipath": "hysds::data/x", "match_pattern": "/(?P<id>x"}]})"),
            Lines{"error: f: datasets.datasets[0].match_pattern: regex does not compile: missing "
                  "closing parenthesis at offset 9 (expected a Python regular expression)"});
}

TEST(LintTest, TemplateFields) {
  std::string doc = R"({"datasets": [{
    "ipath": "hysds::data/x",
    "match_pattern": "/(?P<id>x_(?P<year>\\d{4}))$",
    "publish": {"location": "s3://b/{{ BUCKET }}/{type}/{version}/{year}/{id}/{dataset[starttime]}/{met[a]}",
                "urls": ["s3://b/{yaer}/{id}", "s3://b/${version}/{}"]}}]})";
  EXPECT_EQ(Check(LintKind::kDatasets, doc),
            (Lines{"error: f: datasets.datasets[0].publish.urls[0]: `{yaer}` names a field that "
                   "can never exist (expected a named group of match_pattern or "
                   "alt_match_pattern, or version, level, type, hostname, dataset[...], met[...])",
                   "warning: f: datasets.datasets[0].publish.urls[1]: `${version}` leaves a stray "
                   "`$` under str.format (expected `{version}`)",
                   "error: f: datasets.datasets[0].publish.urls[1]: `{}` is a positional field, "
                   "never given (expected a named field such as `{version}`)"}));
}

TEST(LintTest, SpecAndIoParams) {
  Json spec = Json::parse(R"({"command": "x", "params": [{"name": "a", "destination": "context"},
                                                         {"name": "b", "destination": "context"}]})");
  Json io = Json::parse(R"({"params": [{"name": "a", "from": "submitter"},
                                       {"name": "c", "from": "submitter"}]})");
  std::vector<Finding> findings;
  LintSpecAgainstIo(spec, "s", io, "i", &findings);
  Lines lines;
  for (const Finding& f : findings) lines.push_back(f.Line());
  EXPECT_EQ(lines, (Lines{"error: i: hysds-io.params[1].name: `c` is not a param of s (expected a "
                          "job-spec param)",
                          "error: s: job-spec.params[1].name: `b` is not a param of i (expected a "
                          "hysds-io param)"}));
}

TEST(LintTest, UnknownKeyWithNearest) {
  EXPECT_EQ(Check(LintKind::kJobSpec,
                  R"({"command": "x", "params": [], "recommended_queues": [], "zzz": 1})"),
            (Lines{"warning: f: job-spec.recommended_queues: unknown key `recommended_queues` "
                   "(did you mean `recommended-queues`?)",
                   "warning: f: job-spec.zzz: unknown key `zzz` (not read by HySDS or verdi)"}));
}

TEST(LintTest, NearestKey) {
  EXPECT_EQ(NearestKey("time_limt", {"soft_time_limit", "time_limit"}), "time_limit");
  EXPECT_EQ(NearestKey("disk", {"disk_usage", "command"}), "disk_usage");
  EXPECT_EQ(NearestKey("Recommended_Queues", {"recommended-queues"}), "recommended-queues");
  EXPECT_EQ(NearestKey("banana", {"command", "params"}), "");
}

TEST(LintTest, RepeatedKeys) {
  EXPECT_EQ(
      Check(LintKind::kJobSpec,
            R"({"command": "x", "params": [{"name": "a", "name": "b", "destination": "context"}],
                      "command": "y"})"),
      (Lines{"warning: f: job-spec.params[0].name: repeated key `name` (the last one wins, "
             "as in Python)",
             "warning: f: job-spec.command: repeated key `command` (the last one wins, as "
             "in Python)"}));
}

TEST(LintTest, RepeatedKeyPathsInNestedLists) {
  Lines lines = Check(LintKind::kDatasets, R"({"datasets": [{"ipath": "a/b", "match_pattern": "x"},
      {"ipath": "a/c", "match_pattern": "y", "publish": {"location": "l", "urls": ["u", "v"],
       "location": "m"}}]})");
  EXPECT_EQ(lines, Lines{"warning: f: datasets.datasets[1].publish.location: repeated key "
                         "`location` (the last one wins, as in Python)"});
}

TEST(LintTest, LambdaMustBeALambda) {
  EXPECT_EQ(Check(LintKind::kHysdsIo,
                  R"({"params": [{"name": "a", "from": "submitter", "lambda": "lambda x: x"},
                                 {"name": "b", "from": "submitter", "lambda": "x + 1"}]})"),
            (Lines{"error: f: hysds-io.params[1].lambda: got \"x + 1\" (expected a Python lambda "
                   "expression \"lambda x: ...\")"}));
}

TEST(LintTest, SoftLimitWithoutRoom) {
  EXPECT_EQ(Check(LintKind::kJobSpec,
                  R"({"command": "x", "params": [], "soft_time_limit": 60, "time_limit": 62})"),
            Lines{"warning: f: job-spec.time_limit: 62 leaves 2 s after soft_time_limit 60, no "
                  "room for the 5 s gap between SIGTERM and SIGKILL (expected 65 or more)"});
  EXPECT_EQ(Check(LintKind::kJobSpec,
                  R"({"command": "x", "params": [], "soft_time_limit": 60, "time_limit": 120})"),
            Lines{});
}

TEST(LintTest, JobChecksNestedJobSpec) {
  EXPECT_EQ(Check(LintKind::kJob, R"({"job_id": "j", "type": "t",
      "params": {"_disk_usage": "1GB", "job_specification": {"command": "x", "params": [{"name": 1}]}}})"),
            (Lines{"error: f: job.params.job_specification.params[0].name: got 1 (expected a "
                   "string)",
                   "error: f: job.params.job_specification.params[0].destination: is missing "
                   "(expected \"positional\", \"localize\" or \"context\")"}));
}

TEST(LintTest, WorkerConfig) {
  EXPECT_EQ(Check(LintKind::kWorkerConfig,
                  R"({"configs": [{"type": "t", "command": {"path": "/bin/echo", "arguments": [3]}},
                                  {"type": "t", "command": {"path": ""}}]})"),
            (Lines{"error: f: worker-config.configs[0].command.arguments[0]: got 3 (expected a "
                   "string)",
                   "warning: f: worker-config.configs[1].type: repeated type `t`: the first entry "
                   "is used (expected each type once)",
                   "error: f: worker-config.configs[1].command.path: got \"\" (expected the path "
                   "of an executable)"}));
}

TEST(LintTest, GuessKind) {
  EXPECT_EQ(GuessKindFromName("a/job-spec.json.x"), LintKind::kJobSpec);
  EXPECT_EQ(GuessKindFromName("hysds-io.json.x"), LintKind::kHysdsIo);
  EXPECT_EQ(GuessKindFromName("/etc/datasets.json"), LintKind::kDatasets);
  EXPECT_EQ(GuessKindFromName("job.json"), std::nullopt);
  EXPECT_EQ(GuessKindFromContent(Json::parse(R"({"job_id": "a", "type": "b"})")), LintKind::kJob);
  EXPECT_EQ(GuessKindFromContent(Json::parse(R"({"configs": []})")), LintKind::kWorkerConfig);
  EXPECT_EQ(GuessKindFromContent(Json::parse(R"({"x": 1})")), std::nullopt);
}

}  // namespace
}  // namespace verdi
