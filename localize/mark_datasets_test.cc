#include "localize/mark_datasets.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace verdi::localize {
namespace {
namespace fs = std::filesystem;

TEST(MarkDatasetsTest, MarksDatasetDirsThroughSymlinksOnce) {
  char tmpl[] = "/tmp/verdi_mark_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  fs::path root = tmpl;
  fs::path job = root / "job";
  fs::create_directories(job / "in/S1_GRD");
  std::ofstream(job / "in/S1_GRD/S1_GRD.dataset.json") << "{}";
  fs::create_directories(job / "notads");
  std::ofstream(job / "notads/other.dataset.json") << "{}";  // name differs: not a dataset
  // A cached input: a symlink to a dataset dir outside the job dir.
  fs::create_directories(root / "cache/e/L2_X");
  std::ofstream(root / "cache/e/L2_X/L2_X.dataset.json") << "{}";
  fs::create_directory_symlink(root / "cache/e/L2_X", job / "L2_X");
  fs::create_directory_symlink(job, job / "in/loop");  // a loop is walked once
  std::vector<fs::path> marked;
  ASSERT_TRUE(MarkLocalizedDatasets(job, &marked).ok());
  EXPECT_EQ(marked.size(), 2u);
  EXPECT_TRUE(fs::exists(job / "in/S1_GRD/.localized"));
  EXPECT_TRUE(fs::exists(root / "cache/e/L2_X/.localized"));
  EXPECT_FALSE(fs::exists(job / "notads/.localized"));
  EXPECT_FALSE(fs::exists(job / ".localized"));
  std::ifstream in(job / "in/S1_GRD/.localized");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.back(), 'Z') << line;
  fs::remove_all(root);
}

}  // namespace
}  // namespace verdi::localize
