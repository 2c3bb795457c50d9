#include "jobspec/python_regex.h"

#include <gtest/gtest.h>

namespace verdi {
namespace {

TEST(PythonRegex, NamedGroupsOfASearch) {
  PythonRegex re;
  ASSERT_TRUE(PythonRegex::Compile(R"(/(?P<id>AOI_(?P<site>\w+)_\d+)$)", "p", &re).ok());
  EXPECT_EQ(re.names(), (std::set<std::string>{"id", "site"}));
  std::map<std::string, std::string> groups;
  ASSERT_TRUE(re.Search("/work/job/AOI_pasadena_12", &groups));
  EXPECT_EQ(groups["id"], "AOI_pasadena_12");
  EXPECT_EQ(groups["site"], "pasadena");
  EXPECT_FALSE(re.Search("/work/job/other", nullptr));
}

TEST(PythonRegex, UnmatchedOptionalGroupIsAbsent) {
  PythonRegex re;
  ASSERT_TRUE(PythonRegex::Compile(R"((?P<a>x)?(?P<b>y))", "p", &re).ok());
  std::map<std::string, std::string> groups;
  ASSERT_TRUE(re.Search("y", &groups));
  EXPECT_FALSE(groups.contains("a"));
  EXPECT_EQ(groups["b"], "y");
}

TEST(PythonRegex, BadPatternNamesWhere) {
  PythonRegex re;
  Status st = PythonRegex::Compile("(?P<x>", "datasets[0].match_pattern", &re);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("datasets[0].match_pattern: regex does not compile"),
            std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace verdi
