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
