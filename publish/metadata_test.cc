#include "publish/metadata.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "publish/process_testing.h"

namespace verdi::publish {
namespace {
namespace fs = std::filesystem;

class MetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_met_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    product_ = {"P1", dir_ / "P1", dir_ / "P1"};
    fs::create_directories(product_.dir);
    rule_.where = "d.json: datasets[0] (ipath hysds::data/p)";
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Extractor(const std::string& body) {
    fs::path script = dir_ / "extract.sh";
    std::ofstream(script) << "#!/bin/sh\n" << body << "\n";
    chmod(script.c_str(), 0755);
    rule_.extractor = "script:" + script.string();
  }
  // A generous timeout: a loaded machine must not fail the other tests.
  Status Load(Json* met, int timeout_s = 30) {
    JobDir job;
    VERDI_RETURN_IF_ERROR(JobDir::Open(dir_, &job));
    return LoadMetadata(job, product_, rule_, testing::RunForTest, std::chrono::seconds(timeout_s),
                        met);
  }
  fs::path dir_;
  Product product_;
  DatasetRule rule_;
};

TEST_F(MetadataTest, MetJsonOfTheJobWins) {
  std::ofstream(product_.dir / "P1.met.json") << R"({"a": 1})";
  Extractor("exit 1");
  Json met;
  ASSERT_TRUE(Load(&met).ok());
  EXPECT_EQ(met, Json({{"a", 1}}));
}

TEST_F(MetadataTest, NoExtractorNoMetIsEmpty) {
  Json met;
  ASSERT_TRUE(Load(&met).ok());
  EXPECT_EQ(met, Json::object());
}

TEST_F(MetadataTest, ExtractorOutputMergedWithSeedAndWritten) {
  std::ofstream(product_.dir / "met.json") << R"({"seed": true})";
  Extractor(R"(echo "{\"dir\": \"$1\", \"n\": 2}"; echo noise >&2)");
  Json met;
  Status st = Load(&met);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(met["dir"], product_.dir.string());
  EXPECT_EQ(met["data_product_name"], "P1");
  EXPECT_EQ(met["seed"], true);
  EXPECT_FALSE(fs::exists(product_.dir / "met.json"));
  Json written;
  ASSERT_TRUE(ReadJsonFile((product_.dir / "P1.met.json").string(), &written).ok());
  EXPECT_EQ(written, met);
}

TEST_F(MetadataTest, ExtractorFailureNamesProductEntryAndStderr) {
  Extractor("echo 'cannot read the granule' >&2; exit 3");
  Json met;
  Status st = Load(&met);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("product P1: extractor"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("datasets[0]"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("exit code 3"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("cannot read the granule"), std::string::npos) << st.message();
}

TEST_F(MetadataTest, ExtractorGarbageOutputFails) {
  Extractor("echo 'this is not json'");
  Json met;
  Status st = Load(&met);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not a JSON object: this is not json"), std::string::npos)
      << st.message();
  Extractor("echo '[1, 2]'");
  EXPECT_FALSE(Load(&met).ok());
}

TEST_F(MetadataTest, ExtractorTimeoutKills) {
  Extractor("sleep 30");
  Json met;
  auto t0 = std::chrono::steady_clock::now();
  Status st = Load(&met, 2);
  ASSERT_FALSE(st.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_NE(st.message().find("killed after 2 s"), std::string::npos) << st.message();
}

TEST_F(MetadataTest, ExtractorVariablesComeFromTheEnvironmentUnsetOnesExpandToNothing) {
  Extractor(R"(echo '{"ran": true}')");
  setenv("VERDI_T_DIR", dir_.c_str(), 1);
  unsetenv("VERDI_T_UNSET");
  rule_.extractor = "script:${VERDI_T_DIR}/extract$VERDI_T_UNSET.sh";
  Json met;
  Status st = Load(&met);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(met["ran"], true);
}

TEST_F(MetadataTest, SymlinkedMetJsonIsRefusedNotRead) {
  fs::path host = dir_.parent_path() / (dir_.filename().string() + "-host.json");
  std::ofstream(host) << R"({"host_secret": "s3cr3t"})";
  fs::create_symlink(host, product_.dir / "P1.met.json");
  Extractor(R"(echo '{"from": "extractor"}')");
  Json met;
  Status st = Load(&met);
  fs::remove(host);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("product P1: "), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("P1.met.json: is or goes through a symlink"), std::string::npos)
      << st.message();
  EXPECT_EQ(met.dump().find("s3cr3t"), std::string::npos);
}

TEST_F(MetadataTest, FifoMetJsonFailsAtOnce) {
  ASSERT_EQ(mkfifo((product_.dir / "P1.met.json").c_str(), 0644), 0);
  Json met;
  auto t0 = std::chrono::steady_clock::now();
  Status st = Load(&met);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("is a FIFO, not a regular file"), std::string::npos) << st.message();
}

TEST_F(MetadataTest, HugeNumberOrDeepNestingIsAnErrorNotAnException) {
  std::ofstream(product_.dir / "P1.met.json") << R"({"a": 1e999999})";
  Json met;
  Status st = Load(&met);
  ASSERT_TRUE(st.IsInvalid()) << st.message();
  EXPECT_NE(st.message().find("P1.met.json: invalid JSON"), std::string::npos) << st.message();
  std::ofstream(product_.dir / "P1.met.json") << std::string(100000, '[');
  EXPECT_TRUE(Load(&met).IsInvalid());
  Extractor("printf '{\"a\": 1e999999}'");
  fs::remove(product_.dir / "P1.met.json");
  st = Load(&met);
  EXPECT_NE(st.message().find("not a JSON object"), std::string::npos) << st.message();
}

TEST_F(MetadataTest, WrittenMetJsonReplacesAPlantedLinkInsteadOfWritingThroughIt) {
  fs::path host = dir_.parent_path() / (dir_.filename().string() + "-host-target");
  fs::create_symlink(host, product_.dir / "P1.met.json.tmp");
  fs::create_symlink(host, product_.dir / "P1.met.json");  // dangling: "absent" before
  Extractor(R"(echo '{"n": 1}')");
  Json met;
  Status st = Load(&met);
  // A dangling link is still a link: refused, and nothing appears at its target.
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(fs::exists(host));
  fs::remove(product_.dir / "P1.met.json");
  st = Load(&met);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(fs::exists(host));
  EXPECT_FALSE(fs::is_symlink(product_.dir / "P1.met.json"));
}

}  // namespace
}  // namespace verdi::publish
