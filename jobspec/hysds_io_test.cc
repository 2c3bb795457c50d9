#include "jobspec/hysds_io.h"

#include <string>

#include <gtest/gtest.h>

namespace verdi {
namespace {

Status Parse(const Json& doc, HysdsIo* io) { return ParseHysdsIo(JsonField(&doc, "hysds-io"), io); }

std::string Rejection(const Json& doc) {
  HysdsIo io;
  io.label = "untouched";
  Status st = Parse(doc, &io);
  EXPECT_TRUE(st.IsInvalid()) << "accepted: " << doc;
  EXPECT_EQ(io.label, "untouched");
  return st.message();
}

// A document with one param `param` (name and from filled in when absent).
Json WithParam(Json param) {
  if (!param.contains("name")) param["name"] = "x";
  if (!param.contains("from")) param["from"] = "submitter";
  return {{"params", {param}}};
}

TEST(ParseHysdsIoTest, FullDocument) {
  Json doc = Json::parse(R"js({
    "label": "Hello",
    "component": "figaro",
    "submission_type": "individual",
    "enable_dedup": false,
    "allowed_accounts": ["ops", "_all"],
    "params": [
      {"name": "fixed", "from": "value", "value": {"a": 1}},
      {"name": "count", "from": "submitter", "type": "number", "default": "3",
       "placeholder": "how many"},
      {"name": "flag", "from": "submitter", "type": "boolean", "optional": true},
      {"name": "opt", "from": "submitter", "optional": "true", "lambda": "lambda x: x.upper()"},
      {"name": "choice", "from": "submitter", "type": "enum", "enumerables": ["a", "b"]},
      {"name": "ver", "from": "submitter", "type": "jobspec_version", "version_regex": "job-x"},
      {"name": "url", "from": "dataset_jpath:_source.urls.0"},
      {"name": "rule", "from": "passthrough", "default": null}
    ],
    "comment": "unknown keys are not errors"
})js");
  HysdsIo io;
  ASSERT_TRUE(Parse(doc, &io).ok());
  EXPECT_EQ(io.label, "Hello");
  EXPECT_EQ(io.component, "figaro");
  EXPECT_EQ(io.submission_type, "individual");
  EXPECT_FALSE(io.enable_dedup);
  EXPECT_EQ(io.allowed_accounts, (std::vector<std::string>{"ops", "_all"}));
  ASSERT_EQ(io.params.size(), 8u);

  const HysdsIoParam& fixed = io.params[0];
  EXPECT_EQ(fixed.from, "value");
  EXPECT_EQ(fixed.value, Json({{"a", 1}}));
  EXPECT_EQ(fixed.type, "text");
  EXPECT_EQ(fixed.path, "hysds-io.params[0]");
  EXPECT_FALSE(fixed.default_value);

  EXPECT_EQ(io.params[1].type, "number");
  EXPECT_EQ(io.params[1].default_value, Json("3"));
  EXPECT_FALSE(io.params[1].optional);
  EXPECT_TRUE(io.params[2].optional);
  EXPECT_TRUE(io.params[3].optional);  // the schema's string form
  EXPECT_EQ(io.params[3].lambda, "lambda x: x.upper()");
  EXPECT_EQ(io.params[6].from, "dataset_jpath:_source.urls.0");
  EXPECT_FALSE(io.params[7].default_value);  // null: no default
  EXPECT_EQ(io.Find("flag"), &io.params[2]);
  EXPECT_EQ(io.Find("nope"), nullptr);
}

TEST(ParseHysdsIoTest, Defaults) {
  HysdsIo io;
  ASSERT_TRUE(Parse({{"params", Json::array()}}, &io).ok());
  EXPECT_EQ(io.component, "tosca");
  EXPECT_EQ(io.submission_type, "iteration");
  EXPECT_TRUE(io.enable_dedup);
  EXPECT_TRUE(io.params.empty());
}

TEST(ParseHysdsIoTest, FirstParamOfANameIsFound) {
  HysdsIo io;
  ASSERT_TRUE(Parse(Json::parse(R"({"params": [
    {"name": "x", "from": "value", "value": "first"},
    {"name": "x", "from": "value", "value": "second"}]})"),
                    &io)
                  .ok());
  EXPECT_EQ(io.Find("x")->value, Json("first"));
}

TEST(ParseHysdsIoTest, NullValueIsAFixedValue) {
  HysdsIo io;
  ASSERT_TRUE(Parse(WithParam({{"from", "value"}, {"value", nullptr}}), &io).ok());
  ASSERT_TRUE(io.params[0].value);
  EXPECT_TRUE(io.params[0].value->is_null());
}

// Every form HySDS's resolver (hysds_commons get_inputs) acts on, and what
// its schema's searched pattern lets through besides.
TEST(ParseHysdsIoTest, FromForms) {
  for (const char* from : {"value", "submitter", "passthrough", "dataset_jpath:",
                           "dataset_jpath:_id", "dataset_jpath:_source.urls.0:x"}) {
    EXPECT_EQ(ClassifyFrom(from), FromForm::kKnown) << from;
    HysdsIo io;
    Json doc = WithParam({{"from", from}, {"value", "v"}});
    EXPECT_TRUE(Parse(doc, &io).ok()) << from;
  }
  for (const char* from :
       {"submitter_input", "default_value", "x-dataset_jpath:_id", "Passthrough value"})
    EXPECT_EQ(ClassifyFrom(from), FromForm::kDefaultOnly) << from;
  for (const char* from : {"submit", "dataset_jpath", "", "user", "Value"})
    EXPECT_EQ(ClassifyFrom(from), FromForm::kRefused) << from;
  HysdsIo io;
  ASSERT_TRUE(Parse(WithParam({{"from", "submitter_input"}, {"default", "d"}}), &io).ok());
  EXPECT_EQ(io.params[0].from, "submitter_input");
}

TEST(ParseHysdsIoTest, Rejections) {
  EXPECT_EQ(Rejection(Json::array()), "hysds-io: expected an object, got a list");
  EXPECT_EQ(Rejection(Json::object()), "hysds-io.params: is missing, expected a list");
  EXPECT_EQ(Rejection({{"params", {1}}}), "hysds-io.params[0]: expected an object, got 1");
  EXPECT_EQ(Rejection({{"params", {{{"from", "value"}}}}}),
            "hysds-io.params[0].name: is missing, expected a string");
  EXPECT_EQ(Rejection({{"params", {{{"name", ""}, {"from", "value"}}}}}),
            "hysds-io.params[0].name: expected a param name, got \"\"");
  EXPECT_EQ(Rejection({{"params", {{{"name", "x"}}}}}),
            "hysds-io.params[0].from: is missing, expected a string");
  EXPECT_EQ(Rejection(WithParam({{"from", "user"}})),
            "hysds-io.params[0].from: expected \"value\", \"submitter\", \"passthrough\" or "
            "\"dataset_jpath:<path>\", the path possibly empty, got \"user\"");
  EXPECT_EQ(Rejection(WithParam({{"from", "dataset_jpath"}})),
            "hysds-io.params[0].from: expected \"value\", \"submitter\", \"passthrough\" or "
            "\"dataset_jpath:<path>\", the path possibly empty, got \"dataset_jpath\"");
  EXPECT_EQ(Rejection(WithParam({{"from", "value"}})),
            "hysds-io.params[0].value: is missing, expected the fixed value (from is \"value\")");
  EXPECT_EQ(Rejection(WithParam({{"type", "string"}})),
            "hysds-io.params[0].type: expected one of text, number, datetime, date, boolean, enum, "
            "email, textarea, region, container_version, object, jobspec_version, "
            "hysdsio_version, got \"string\"");
  EXPECT_EQ(Rejection(WithParam({{"type", "enum"}})),
            "hysds-io.params[0].enumerables: is missing, expected a list");
  EXPECT_EQ(Rejection(WithParam({{"type", "enum"}, {"enumerables", {"a", 2}}})),
            "hysds-io.params[0].enumerables[1]: expected a string, got 2");
  EXPECT_EQ(Rejection(WithParam({{"type", "container_version"}})),
            "hysds-io.params[0].version_regex: is missing, expected a string");
  EXPECT_EQ(Rejection(WithParam({{"optional", "yes"}})),
            "hysds-io.params[0].optional: expected true or false, got \"yes\"");
  EXPECT_EQ(Rejection(WithParam({{"lambda", "x + 1"}})),
            "hysds-io.params[0].lambda: expected a Python lambda expression (\"lambda x: ...\"), "
            "got \"x + 1\"");
  EXPECT_EQ(Rejection(WithParam({{"lambda", 3}})),
            "hysds-io.params[0].lambda: expected a string, got 3");
  EXPECT_EQ(Rejection({{"params", Json::array()}, {"component", "grq"}}),
            "hysds-io.component: expected \"tosca\" or \"figaro\", got \"grq\"");
  EXPECT_EQ(Rejection({{"params", Json::array()}, {"submission_type", "once"}}),
            "hysds-io.submission_type: expected \"iteration\" or \"individual\", got \"once\"");
  EXPECT_EQ(Rejection({{"params", Json::array()}, {"enable_dedup", "false"}}),
            "hysds-io.enable_dedup: expected true or false, got \"false\"");
  EXPECT_EQ(Rejection({{"params", Json::array()}, {"allowed_accounts", "ops"}}),
            "hysds-io.allowed_accounts: expected a list, got \"ops\"");
}

}  // namespace
}  // namespace verdi
