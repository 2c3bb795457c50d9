#include "publish/datasets_config.h"

#include <gtest/gtest.h>

#include <fstream>

namespace verdi::publish {
namespace {
namespace fs = std::filesystem;

Json Entry(const std::string& ipath, const std::string& pattern) {
  return {{"ipath", ipath},
          {"level", "l0"},
          {"type", "t"},
          {"match_pattern", pattern},
          {"publish", {{"location", "/tmp/x/{id}"}}}};
}

TEST(DatasetsConfig, FirstMatchingEntryWinsWithItsNamedGroups) {
  Json doc = {{"datasets",
               {Entry("hysds::data/none", R"(/nomatch_(?P<id>.+)$)"),
                Entry("hysds::data/first", R"(/(?P<id>AOI_(?P<site>[a-z]+)_\d+)$)"),
                Entry("hysds::data/second", R"(/(?P<id>AOI_.+)$)")}}};
  DatasetsConfig config;
  ASSERT_TRUE(DatasetsConfig::Parse(doc, "d.json", &config).ok());
  std::map<std::string, std::string> groups;
  const DatasetRule* rule = config.Match("/work/job/AOI_pasadena_7", &groups);
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->ipath, "hysds::data/first");
  EXPECT_EQ(rule->dataset(), "first");
  EXPECT_EQ(groups["id"], "AOI_pasadena_7");
  EXPECT_EQ(groups["site"], "pasadena");
  EXPECT_EQ(config.Match("/work/job/other", &groups), nullptr);
}

TEST(DatasetsConfig, AltMatchPatternOnThePathOrANameInside) {
  char tmpl[] = "/tmp/verdi_dscfg_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  fs::path dir = fs::path(tmpl) / "P1";
  fs::create_directories(dir);
  std::ofstream(dir / "data.h5") << "x";
  Json with_alt = Entry("hysds::data/alt", R"(/(?P<id>P\d)$)");
  with_alt["alt_match_pattern"] = R"(\.(?P<ext>h5)$)";
  Json no_alt = Entry("hysds::data/plain", R"(/(?P<id>P\d)$)");
  Json doc = {{"datasets", {with_alt, no_alt}}};
  DatasetsConfig config;
  ASSERT_TRUE(DatasetsConfig::Parse(doc, "d.json", &config).ok());
  std::map<std::string, std::string> groups;
  const DatasetRule* rule = config.Match(dir, &groups);
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->ipath, "hysds::data/alt");
  EXPECT_EQ(groups["ext"], "h5");
  fs::remove(dir / "data.h5");
  rule = config.Match(dir, &groups);
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->ipath, "hysds::data/plain");
  fs::remove_all(tmpl);
}

TEST(DatasetsConfig, BadEntriesAreNamed) {
  DatasetsConfig config;
  Status st =
      DatasetsConfig::Parse({{"datasets", {Entry("hysds::data/x", "(?P<id>")}}}, "d.json", &config);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("d.json: datasets[0].match_pattern: regex does not compile"),
            std::string::npos)
      << st.message();
  st = DatasetsConfig::Parse({{"datasets", {Entry("nopath", "x")}}}, "d.json", &config);
  EXPECT_NE(st.message().find("datasets[0].ipath"), std::string::npos) << st.message();
  st = DatasetsConfig::Parse({{"sets", Json::array()}}, "d.json", &config);
  EXPECT_FALSE(st.ok());
}

}  // namespace
}  // namespace verdi::publish
