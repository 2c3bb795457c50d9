#include "jobspec/worker_config.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace verdi {
namespace {

using Strings = std::vector<std::string>;

// A HYSDS_WORKER_CFG document in the shape of the WCFG examples.
Json WorkerConfigDoc() {
  return Json::parse(R"({
    "root_work_dir": "/data/work",
    "webdav_port": 8085,
    "webdav_url": "http://localhost:8085",
    "configs": [
      {
        "type": "job-hello_world:develop",
        "command": {
          "path": "/home/ops/hello_world/run.sh",
          "options": ["-v", "--log=debug"],
          "arguments": ["$input_file", "--greeting", "$greeting"],
          "env": [{"key": "LANG", "value": "C.UTF-8"}, {"key": "EMPTY", "value": ""}]
        },
        "disk_usage": "10GB",
        "container_image_name": "hello_world:develop",
        "container_image_url": "s3://bucket/hello_world-develop.tar.gz"
      },
      {
        "type": "job-other:1",
        "command": {"path": "/bin/true"}
      }
    ]
  })");
}

std::string ConfigRejection(const Json& doc, const std::string& where = "workers.json") {
  WorkerConfig config;
  config.root_work_dir = "untouched";
  Status st = ParseWorkerConfig(doc, where, &config);
  EXPECT_TRUE(st.IsInvalid()) << "accepted: " << doc;
  EXPECT_EQ(config.root_work_dir, std::optional<std::string>("untouched"));
  return st.message();
}

Job ParsedJob(const Json& doc) {
  Job job;
  Status st = ParseJob(doc, &job);
  EXPECT_TRUE(st.ok()) << st.message();
  return job;
}

TEST(ParseWorkerConfigTest, FullDocument) {
  Json doc = WorkerConfigDoc();
  WorkerConfig config;
  Status st = ParseWorkerConfig(doc, "workers.json", &config);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(config.root_work_dir, std::optional<std::string>("/data/work"));
  EXPECT_EQ(config.webdav_port, std::optional<std::string>("8085"));
  EXPECT_EQ(config.webdav_url, std::optional<std::string>("http://localhost:8085"));
  ASSERT_EQ(config.configs.size(), 2u);

  const TypeConfig& hello = config.configs[0];
  EXPECT_EQ(hello.type, "job-hello_world:develop");
  EXPECT_EQ(hello.command.path, "/home/ops/hello_world/run.sh");
  EXPECT_EQ(hello.command.options, (Strings{"-v", "--log=debug"}));
  EXPECT_EQ(hello.command.arguments, (Strings{"$input_file", "--greeting", "$greeting"}));
  ASSERT_EQ(hello.command.env.size(), 2u);
  EXPECT_EQ(hello.command.env[0].key, "LANG");
  EXPECT_EQ(hello.command.env[0].value, "C.UTF-8");
  EXPECT_EQ(hello.command.env[1].key, "EMPTY");
  EXPECT_EQ(hello.command.env[1].value, "");
  EXPECT_EQ(hello.disk_usage_bytes, std::optional<uint64_t>(10737418240u));
  EXPECT_EQ(hello.entry, doc["configs"][0]);
  EXPECT_EQ(hello.entry["container_image_url"], "s3://bucket/hello_world-develop.tar.gz");

  const TypeConfig& other = config.configs[1];
  EXPECT_EQ(other.type, "job-other:1");
  EXPECT_EQ(other.command.path, "/bin/true");
  EXPECT_TRUE(other.command.options.empty());
  EXPECT_TRUE(other.command.arguments.empty());
  EXPECT_TRUE(other.command.env.empty());
  EXPECT_EQ(other.disk_usage_bytes, std::nullopt);
}

TEST(ParseWorkerConfigTest, OptionalSettings) {
  WorkerConfig config;
  ASSERT_TRUE(
      ParseWorkerConfig(Json::parse(R"({"configs": [], "webdav_port": "8443"})"), "w.json", &config)
          .ok());
  EXPECT_EQ(config.root_work_dir, std::nullopt);
  EXPECT_EQ(config.webdav_port, std::optional<std::string>("8443"));
  EXPECT_EQ(config.webdav_url, std::nullopt);
  EXPECT_TRUE(config.configs.empty());
}

TEST(ParseWorkerConfigTest, Find) {
  WorkerConfig config;
  ASSERT_TRUE(ParseWorkerConfig(WorkerConfigDoc(), "workers.json", &config).ok());
  const TypeConfig* found = config.Find("job-other:1");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found, &config.configs[1]);
  EXPECT_EQ(config.Find("job-hello_world:develop"), &config.configs[0]);
  EXPECT_EQ(config.Find("job-hello_world"), nullptr);
  EXPECT_EQ(config.Find(""), nullptr);
}

TEST(ParseWorkerConfigTest, RejectsMissingConfigs) {
  EXPECT_EQ(ConfigRejection(Json::object()), "workers.json.configs: is missing, expected a list");
  EXPECT_EQ(ConfigRejection(Json::parse(R"({"configs": {}})"), "/etc/verdi/w.json"),
            "/etc/verdi/w.json.configs: expected a list, got an object");
  EXPECT_EQ(ConfigRejection(Json::array()), "workers.json: expected an object, got a list");
}

TEST(ParseWorkerConfigTest, RejectsMissingCommandPath) {
  Json doc = WorkerConfigDoc();
  doc["configs"][1]["command"].erase("path");
  EXPECT_EQ(ConfigRejection(doc),
            "workers.json.configs[1].command.path: is missing, expected a string");
  doc["configs"][1]["command"]["path"] = "";
  EXPECT_EQ(ConfigRejection(doc),
            "workers.json.configs[1].command.path: expected the path of an executable, got \"\"");
  doc["configs"][1].erase("command");
  EXPECT_EQ(ConfigRejection(doc),
            "workers.json.configs[1].command: is missing, expected an object");
}

TEST(ParseWorkerConfigTest, RejectsBadEnv) {
  Json doc = WorkerConfigDoc();
  doc["configs"][0]["command"]["env"][1].erase("value");
  EXPECT_EQ(ConfigRejection(doc),
            "workers.json.configs[0].command.env[1].value: is missing, expected a string");
  doc = WorkerConfigDoc();
  doc["configs"][0]["command"]["env"][0]["key"] = "A=B";
  EXPECT_EQ(ConfigRejection(doc),
            "workers.json.configs[0].command.env[0].key: expected an environment variable name, "
            "got \"A=B\"");
  doc["configs"][0]["command"]["env"][0]["key"] = "";
  EXPECT_EQ(ConfigRejection(doc),
            "workers.json.configs[0].command.env[0].key: expected an environment variable name, "
            "got \"\"");
  doc["configs"][0]["command"]["env"] = Json::parse(R"({"LANG": "C"})");
  EXPECT_EQ(ConfigRejection(doc),
            "workers.json.configs[0].command.env: expected a list, got an object");
}

TEST(ParseWorkerConfigTest, RejectsOtherBadValues) {
  Json doc = WorkerConfigDoc();
  doc["webdav_port"] = true;
  EXPECT_EQ(ConfigRejection(doc),
            "workers.json.webdav_port: expected a string or an integer, got true");
  doc = WorkerConfigDoc();
  doc["root_work_dir"] = 1;
  EXPECT_EQ(ConfigRejection(doc), "workers.json.root_work_dir: expected a string, got 1");
  doc = WorkerConfigDoc();
  doc["configs"][0]["disk_usage"] = "10G";
  EXPECT_EQ(ConfigRejection(doc),
            "workers.json.configs[0].disk_usage: expected a size such as \"10GB\" (a number then "
            "KB, MB, GB or TB), got \"10G\": unknown unit");
  doc = WorkerConfigDoc();
  doc["configs"][0]["command"]["arguments"] = Json::parse(R"(["$a", 2])");
  EXPECT_EQ(ConfigRejection(doc),
            "workers.json.configs[0].command.arguments[1]: expected a string, got 2");
  doc = WorkerConfigDoc();
  doc["configs"][1].erase("type");
  EXPECT_EQ(ConfigRejection(doc), "workers.json.configs[1].type: is missing, expected a string");
}

TEST(WorkerConfigFromJobTest, SplitsTheCommandLine) {
  Job job = ParsedJob(Json::parse(R"({
    "job_id": "j-1", "type": "job-echo:1",
    "params": {"_command": "/bin/echo 'a b' \"c\" d", "_disk_usage": "2MB"}
  })"));
  WorkerConfig config;
  Status st = WorkerConfigFromJob(job, &config);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(config.root_work_dir, std::nullopt);
  ASSERT_EQ(config.configs.size(), 1u);
  const TypeConfig& entry = config.configs[0];
  EXPECT_EQ(entry.type, "job-echo:1");
  EXPECT_EQ(entry.command.path, "/bin/echo");
  EXPECT_EQ(entry.command.arguments, (Strings{"a b", "c", "d"}));
  EXPECT_TRUE(entry.command.options.empty());
  EXPECT_TRUE(entry.command.env.empty());
  EXPECT_EQ(entry.disk_usage_bytes, std::optional<uint64_t>(2097152u));
  EXPECT_EQ(entry.entry, Json::object());
  EXPECT_EQ(config.Find("job-echo:1"), &config.configs[0]);
}

TEST(WorkerConfigFromJobTest, CopiesDependencyImages) {
  Job job = ParsedJob(Json::parse(R"({
    "job_id": "j-1", "type": "t",
    "params": {
      "_command": "/run.sh",
      "job_specification": {"command": "/run.sh", "params": [], "dependency_images": [
        {"container_image_name": "dep:1", "container_image_url": null,
         "container_mappings": {"/a": "/b"}}
      ]}
    }
  })"));
  WorkerConfig config;
  ASSERT_TRUE(WorkerConfigFromJob(job, &config).ok());
  ASSERT_EQ(config.configs.size(), 1u);
  EXPECT_EQ(config.configs[0].command.path, "/run.sh");
  EXPECT_TRUE(config.configs[0].command.arguments.empty());
  EXPECT_EQ(config.configs[0].disk_usage_bytes, std::nullopt);
  EXPECT_EQ(config.configs[0].entry,
            Json::parse(R"({"dependency_images": [{"container_image_name": "dep:1",
                "container_image_url": null, "container_mappings": {"/a": "/b"}}]})"));
}

TEST(WorkerConfigFromJobTest, RejectsJobWithoutCommand) {
  Job job = ParsedJob(Json::parse(R"({"job_id": "j-1", "type": "t", "params": {}})"));
  WorkerConfig config;
  config.root_work_dir = "untouched";
  Status st = WorkerConfigFromJob(job, &config);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(),
            "job.params._command: is missing, and no worker config (HYSDS_WORKER_CFG) is set: "
            "nothing says what to run");
  EXPECT_EQ(config.root_work_dir, std::optional<std::string>("untouched"));
}

TEST(WorkerConfigFromJobTest, RejectsUnterminatedQuote) {
  Job job = ParsedJob(
      Json::parse(R"({"job_id": "j-1", "type": "t", "params": {"_command": "/bin/echo 'a b"}})"));
  WorkerConfig config;
  Status st = WorkerConfigFromJob(job, &config);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(), "job.params._command: no closing quote for ' at character 10");
}

TEST(WorkerConfigFromJobTest, RejectsBlankCommand) {
  Job job =
      ParsedJob(Json::parse(R"({"job_id": "j-1", "type": "t", "params": {"_command": " \t "}})"));
  WorkerConfig config;
  Status st = WorkerConfigFromJob(job, &config);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(), "job.params._command: is empty, expected a command line");
}

TEST(ResolveArgvTest, SubstitutesParamReferences) {
  CommandConfig command;
  command.path = "/bin/run";
  command.options = {"-v", "--x"};
  command.arguments = {"$files", "$n",   "$yes", "$no", "$none", "$f",     "$obj",
                       "x$y",    "$a-b", "$",    "lit", "$s",    "$empty", "$mixed"};
  Json params = Json::parse(R"({
    "files": ["a", "b c"], "n": 42, "yes": true, "no": false, "none": null, "f": 1.5,
    "obj": {"k": 1}, "y": "Y", "a": "A", "s": "str", "empty": [], "mixed": [1, true, null, "z"]
  })");
  Strings argv{"stale"};
  Status st = ResolveArgv(command, params, &argv);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(argv, (Strings{"/bin/run", "-v",   "--x", "a",          "b c",  "42",   "True",
                           "False",    "None", "1.5", R"({"k":1})", "x$y",  "$a-b", "$",
                           "lit",      "str",  "1",   "True",       "None", "z"}));
}

TEST(ResolveArgvTest, OptionsComeBetweenPathAndArguments) {
  CommandConfig command{"/p", {"-o1", "-o2"}, {"arg1", "arg2"}, {}};
  Strings argv;
  ASSERT_TRUE(ResolveArgv(command, Json::object(), &argv).ok());
  EXPECT_EQ(argv, (Strings{"/p", "-o1", "-o2", "arg1", "arg2"}));

  CommandConfig bare{"/bin/true", {}, {}, {}};
  ASSERT_TRUE(ResolveArgv(bare, Json(nullptr), &argv).ok());
  EXPECT_EQ(argv, Strings{"/bin/true"});
}

TEST(ResolveArgvTest, RejectsMissingParam) {
  CommandConfig command{"/p", {}, {"$present", "$missing"}, {}};
  Strings argv{"keep"};
  Status st = ResolveArgv(command, Json::parse(R"({"present": 1})"), &argv);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(),
            "job.params.missing: is missing, but the command's argument \"$missing\" refers to it");
  EXPECT_EQ(argv, Strings{"keep"});

  st = ResolveArgv(command, Json::array(), &argv);
  EXPECT_EQ(st.message(),
            "job.params.present: is missing, but the command's argument \"$present\" refers to it");
}

TEST(CommandConfigTest, ToJson) {
  CommandConfig command{"/bin/run", {"-v"}, {"$a", "b"}, {{"LANG", "C"}, {"X", ""}}};
  EXPECT_EQ(command.ToJson(), Json::parse(R"({
    "path": "/bin/run", "options": ["-v"], "arguments": ["$a", "b"],
    "env": [{"key": "LANG", "value": "C"}, {"key": "X", "value": ""}]
  })"));
  CommandConfig secrets{"/bin/run",
                        {},
                        {},
                        {{"MY_API_TOKEN", "topsecret"},
                         {"BROKER", "amqp://u:topsecret@h//"},
                         {"RESULTS", "redis://:topsecret@h:6379/0"}}};
  EXPECT_EQ(secrets.ToJson()["env"], Json::parse(R"([
    {"key": "MY_API_TOKEN", "value": "***"}, {"key": "BROKER", "value": "amqp://u:***@h//"},
    {"key": "RESULTS", "value": "redis://:***@h:6379/0"}])"));
  CommandConfig empty{"/bin/true", {}, {}, {}};
  EXPECT_EQ(empty.ToJson().dump(), R"({"arguments":[],"env":[],"options":[],"path":"/bin/true"})");
}

}  // namespace
}  // namespace verdi
