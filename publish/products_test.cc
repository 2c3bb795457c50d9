#include "publish/products.h"

#include "jobspec/job_files.h"

#include <gtest/gtest.h>

#include <fstream>

namespace verdi::publish {
namespace {
namespace fs = std::filesystem;

class ProductsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_products_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    job_ = base_ / "job";
    fs::create_directories(job_);
  }
  void TearDown() override { fs::remove_all(base_); }
  void Product(const fs::path& dir) {
    fs::create_directories(dir);
    std::ofstream(dir / (dir.filename().string() + ".dataset.json")) << R"({"version": "v1"})";
  }
  Status Find(std::vector<publish::Product>* out) {
    return FindProducts(
        job_, [this](const std::string& l) { log_ += l + "\n"; }, out);
  }
  fs::path base_, job_;
  std::string log_;
};

TEST_F(ProductsTest, NestedProductsSortedInputsSkippedMisplacedLogged) {
  Product(job_ / "b/P2");
  Product(job_ / "a/P1");
  Product(job_ / "P0");
  Product(job_ / "input/IN1");
  std::ofstream(job_ / "input/.localized") << "";
  fs::create_directories(job_ / "c");
  std::ofstream(job_ / "c/other.dataset.json") << "{}";
  std::vector<publish::Product> found;
  ASSERT_TRUE(Find(&found).ok());
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].id, "P0");
  EXPECT_EQ(found[1].id, "P1");
  EXPECT_EQ(found[1].dir, job_ / "a/P1");
  EXPECT_EQ(found[2].id, "P2");
  EXPECT_NE(log_.find("c/other.dataset.json is not in a directory named other"), std::string::npos)
      << log_;
}

TEST_F(ProductsTest, SymlinksInsideAreFollowedOnce) {
  Product(job_ / "real/P1");
  fs::create_directory_symlink(job_ / "real", job_ / "link");
  fs::create_directory_symlink(job_, job_ / "real/loop");
  std::vector<publish::Product> found;
  ASSERT_TRUE(Find(&found).ok());
  ASSERT_EQ(found.size(), 1u);
  std::vector<ProductFile> files;
  ASSERT_TRUE(ListProductFiles(job_, found[0], &files).ok());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].relpath, "P1.dataset.json");
}

TEST_F(ProductsTest, ProductLinkedFromOutsideIsRefused) {
  Product(base_ / "elsewhere/P9");
  fs::create_directory_symlink(base_ / "elsewhere/P9", job_ / "P9");
  std::vector<publish::Product> found;
  Status st = Find(&found);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("outside the job dir: refused"), std::string::npos) << st.message();
}

TEST_F(ProductsTest, FileLinkedFromOutsideIsRefused) {
  Product(job_ / "P1");
  std::ofstream(base_ / "secret") << "s";
  fs::create_symlink(base_ / "secret", job_ / "P1/data.bin");
  std::vector<publish::Product> found;
  ASSERT_TRUE(Find(&found).ok());
  std::vector<ProductFile> files;
  Status st = ListProductFiles(job_, found[0], &files);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("product P1: " + (job_ / "P1/data.bin").string()), std::string::npos)
      << st.message();
}

TEST_F(ProductsTest, DotDotInANameIsRefused) {
  Product(job_ / "a..b");
  std::vector<publish::Product> found;
  Status st = Find(&found);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("\"a..b\""), std::string::npos) << st.message();
}

TEST_F(ProductsTest, LinkSwappedInAfterTheListingIsNotFollowed) {
  Product(job_ / "P1");
  std::ofstream(job_ / "P1/data.bin") << "job data";
  fs::create_directories(job_ / "P1/sub");
  std::ofstream(job_ / "P1/sub/more.bin") << "more";
  std::ofstream(base_ / "secret") << "host secret";
  std::vector<publish::Product> found;
  ASSERT_TRUE(Find(&found).ok());
  std::vector<ProductFile> files;
  ASSERT_TRUE(ListProductFiles(job_, found[0], &files).ok());
  ASSERT_EQ(files.size(), 3u);
  // The job swaps a file, and a directory on the way, for links out.
  fs::remove(job_ / "P1/data.bin");
  fs::create_symlink(base_ / "secret", job_ / "P1/data.bin");
  fs::rename(job_ / "P1/sub", job_ / "P1/sub.old");
  fs::create_directories(base_ / "hostdir");
  std::ofstream(base_ / "hostdir/more.bin") << "host secret";
  fs::create_directory_symlink(base_ / "hostdir", job_ / "P1/sub");
  JobDir dir;
  ASSERT_TRUE(JobDir::Open(job_, &dir).ok());
  for (const ProductFile& f : files) {
    if (f.relpath == "P1.dataset.json") continue;
    FileHandle fd;
    Status st = dir.OpenRegular(f.real, &fd, nullptr);
    EXPECT_FALSE(st.ok()) << f.relpath;
    EXPECT_NE(st.message().find("symlink"), std::string::npos) << st.message();
    EXPECT_FALSE(fd.valid());
  }
}

TEST_F(ProductsTest, NamesThatAreNotUtf8AreRefused) {
  // They would end in JSON documents, which cannot hold them.
  Product(job_ / "a\xff" / "P1");
  std::vector<publish::Product> found;
  Status st = Find(&found);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("a\\xff/P1: its path is not valid UTF-8: refused"), std::string::npos)
      << st.message();
  fs::remove_all(job_ / "a\xff");
  Product(job_ / "P2");
  std::ofstream(job_ / "P2/img\xc0\xaf_browse_small.png") << "png";
  ASSERT_TRUE(Find(&found).ok());
  std::vector<ProductFile> files;
  st = ListProductFiles(job_, found[0], &files);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("img\\xc0\\xaf_browse_small.png is not valid UTF-8"),
            std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace verdi::publish
