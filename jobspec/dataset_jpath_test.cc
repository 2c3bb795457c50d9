#include "jobspec/dataset_jpath.h"

#include <string>

#include <gtest/gtest.h>

namespace verdi {
namespace {

const Json kDataset = Json::parse(R"({
  "_id": "S1-IFG_1",
  "_source": {
    "urls": ["http://a/S1-IFG_1", "s3://b/S1-IFG_1"],
    "metadata": {"name": "n", "0": "zero", "nul": null, "track": 42},
    "dataset": "S1-IFG"
  }
})");

// The value `from` finds in kDataset; "None" for nothing, "raises: ..." for
// an error.
std::string Find(const std::string& from) {
  std::optional<Json> out = Json("untouched");
  Status st = ResolveDatasetJpath(kDataset, DatasetJpath(from), &out);
  if (!st.ok()) return "raises: " + st.message();
  return out ? out->dump() : "None";
}

TEST(DatasetJpathTest, PathIsTheTextBetweenTheFirstTwoColons) {
  EXPECT_EQ(DatasetJpath("dataset_jpath:"), "");
  EXPECT_EQ(DatasetJpath("dataset_jpath:_source.urls.0"), "_source.urls.0");
  EXPECT_EQ(DatasetJpath("dataset_jpath:_source.dataset:ignored"), "_source.dataset");
}

// Each expectation is what hysds_commons' process_xpath returns for the same
// document and path.
TEST(DatasetJpathTest, WalksAsProcessXpath) {
  EXPECT_EQ(Find("dataset_jpath:"), kDataset.dump());  // the whole document
  EXPECT_EQ(Find("dataset_jpath:_id"), "\"S1-IFG_1\"");
  EXPECT_EQ(Find("dataset_jpath:_source.urls.1"), "\"s3://b/S1-IFG_1\"");
  EXPECT_EQ(Find("dataset_jpath:_source.urls.-1"), "\"s3://b/S1-IFG_1\"");
  EXPECT_EQ(Find("dataset_jpath:_source.urls.2"), "None");
  EXPECT_EQ(Find("dataset_jpath:_source.metadata.0"), "None");  // an integer is no key
  EXPECT_EQ(Find("dataset_jpath:_source.metadata.name.0"), "\"n\"");
  EXPECT_EQ(Find("dataset_jpath:_source.metadata.nul.x"), "None");
  EXPECT_EQ(Find("dataset_jpath:_source.missing.x"), "None");
  EXPECT_EQ(Find("dataset_jpath:_source."), kDataset["_source"].dump());
  EXPECT_EQ(Find("dataset_jpath:_source..dataset"), kDataset["_source"].dump());
  EXPECT_EQ(Find("dataset_jpath:xpath._source.dataset"), "\"S1-IFG\"");
  EXPECT_EQ(Find("dataset_jpath:_source.dataset:ignored"), "\"S1-IFG\"");
  EXPECT_EQ(Find("dataset_jpath:_source.urls. 1 "), "\"s3://b/S1-IFG_1\"");
  EXPECT_EQ(Find("dataset_jpath:_source.urls.+0"), "\"http://a/S1-IFG_1\"");
  EXPECT_EQ(Find("dataset_jpath:_source.urls.0_0"), "\"http://a/S1-IFG_1\"");
  EXPECT_EQ(Find("dataset_jpath:_id.-1"), "\"1\"");
  EXPECT_EQ(Find("dataset_jpath:_id.100"), "None");
}

TEST(DatasetJpathTest, WherePythonRaisesTheErrorNamesThePart) {
  EXPECT_EQ(Find("dataset_jpath:_source.urls.x"), "raises: `x`: cannot take a key of a list");
  EXPECT_EQ(Find("dataset_jpath:_source.metadata.track.x"),
            "raises: `x`: cannot take a key of a number");
  EXPECT_EQ(Find("dataset_jpath:_source.urls.-3"),
            "raises: `-3`: index out of range of a list of 2");
  EXPECT_EQ(Find("dataset_jpath:_source.metadata.track.0"), "raises: `0`: cannot index a number");
}

}  // namespace
}  // namespace verdi
