#include "publish/template.h"

#include <gtest/gtest.h>

namespace verdi::publish {
namespace {

TemplateFields Fields() {
  TemplateFields f;
  f.names = {{"id", "AOI_1"}, {"version", "v1.0"}, {"hostname", "h"}};
  f.objects["dataset"] = {{"starttime", "2020-01-01"}, {"n", 3}};
  f.objects["met"] = {{"a", {{"b", "deep"}}}, {"list", {"x", "y"}}};
  return f;
}

std::string Fill(const std::string& text) {
  std::string out;
  Status st = FillTemplate(text, Fields(), &out);
  return st.ok() ? out : "ERROR " + st.message();
}

TEST(FillTemplate, NamesAndDollarNames) {
  EXPECT_EQ(Fill("s3://b/{version}/{id}"), "s3://b/v1.0/AOI_1");
  EXPECT_EQ(Fill("s3://b/${version}/${id}"), "s3://b/v1.0/AOI_1");
  EXPECT_EQ(Fill("http://{hostname}/x"), "http://h/x");
}

TEST(FillTemplate, DatasetAndMetKeys) {
  EXPECT_EQ(Fill("{dataset[starttime]}/{dataset[n]}"), "2020-01-01/3");
  EXPECT_EQ(Fill("{met[a][b]}-{met[list][1]}"), "deep-y");
}

TEST(FillTemplate, LiteralBraces) { EXPECT_EQ(Fill("{{x}}{id}$"), "{x}AOI_1$"); }

TEST(FillTemplate, UnknownFieldsAreNamed) {
  EXPECT_EQ(Fill("{nope}/x"), "ERROR unknown field `{nope}`");
  EXPECT_NE(Fill("{dataset[endtime]}").find("no `endtime` in dataset"), std::string::npos);
  EXPECT_NE(Fill("{0}").find("positional"), std::string::npos);
  EXPECT_NE(Fill("{id:>4}").find("not supported"), std::string::npos);
  EXPECT_NE(Fill("a}").find("single `}`"), std::string::npos);
  EXPECT_NE(Fill("{id").find("unclosed"), std::string::npos);
}

}  // namespace
}  // namespace verdi::publish

namespace verdi::publish {
namespace {

std::string FillDest(const std::string& text, const Json& dataset) {
  TemplateFields f = Fields();
  f.names["version"] = dataset.value("version", "v1");
  f.objects["dataset"] = dataset;
  std::string out;
  Status st = FillDestinationTemplate(text, f, &out);
  return st.ok() ? out : "ERROR " + st.message();
}

TEST(FillDestinationTemplate, OrdinaryValuesPass) {
  EXPECT_EQ(FillDest("file:///pub/{version}/{id}", {{"version", "v1.0"}}),
            "file:///pub/v1.0/AOI_1");
  EXPECT_EQ(FillDest("s3://b/p/{dataset[k]}/{id}", {{"k", "a/b..c"}}), "s3://b/p/a/b..c/AOI_1");
  EXPECT_EQ(FillDest("http://{hostname}/products/{version}/{id}", {{"version", "v2"}}),
            "http://h/products/v2/AOI_1");
}

TEST(FillDestinationTemplate, ClimbingValuesAreRefusedNamingFieldAndValue) {
  EXPECT_EQ(FillDest("file:///pub/products/{version}/{id}", {{"version", "../../../../x"}}),
            "ERROR field `{version}` is \"../../../../x\": `..` would climb out of the "
            "destination; refused");
  EXPECT_TRUE(FillDest("file:///pub/${version}/{id}", {{"version", "v/../../x"}})
                  .starts_with("ERROR field `{version}` is \"v/../../x\": `..` would climb"));
  EXPECT_NE(FillDest("file:///pub/{dataset[k]}/x", {{"k", ".."}}).find("field `{dataset[k]}`"),
            std::string::npos);
  EXPECT_NE(FillDest("s3://b/{dataset[k]}/x", {{"k", "%2e%2e/%2E%2E/x"}}).find("climb out"),
            std::string::npos);
  EXPECT_NE(FillDest("file:///pub/{dataset[k]}/x", {{"k", std::string("a\0b", 3)}})
                .find("is \"a\\x00b\": a NUL"),
            std::string::npos);
  EXPECT_NE(FillDest("file:///pub/{dataset[k]}/x", {{"k", "a\\..\\b"}}).find("climb out"),
            std::string::npos);
}

TEST(FillDestinationTemplate, MetFieldsAreCheckedToo) {
  TemplateFields f = Fields();
  f.objects["met"] = {{"a", {{"b", "../up"}}}};
  std::string out;
  Status st = FillDestinationTemplate("file:///pub/{met[a][b]}/x", f, &out);
  EXPECT_EQ(st.message(),
            "field `{met[a][b]}` is \"../up\": `..` would climb out of the destination; refused");
}

TEST(FillDestinationTemplate, QueryOrFragmentInANetworkUrlIsRefused) {
  EXPECT_NE(FillDest("http://dav/products/{dataset[k]}/{id}", {{"k", "#"}}).find("cut the"),
            std::string::npos);
  EXPECT_NE(FillDest("s3://b/products/{dataset[k]}/{id}", {{"k", "x?y"}}).find("cut the"),
            std::string::npos);
  EXPECT_EQ(FillDest("file:///pub/{dataset[k]}/x", {{"k", "a#b"}}), "file:///pub/a#b/x");
}

TEST(FillDestinationTemplate, DestinationThatResolvesToItsRootIsRefused) {
  // Each value alone is harmless; together with the fixed text they climb.
  EXPECT_EQ(FillDest("file:///pub/products/.{dataset[k]}", {{"k", "."}}),
            "ERROR the destination \"file:///pub/products/..\" resolves to "
            "\"file:///pub/products/\" or above it; refused");
  EXPECT_NE(FillDest("file:///pub/products/{dataset[k]}", {{"k", "."}}).find("or above it"),
            std::string::npos);
  EXPECT_NE(FillDest("file:///pub/products/{dataset[k]}", {{"k", ""}}).find("or above it"),
            std::string::npos);
}

}  // namespace
}  // namespace verdi::publish
