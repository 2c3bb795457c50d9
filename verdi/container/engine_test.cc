// The engine calls against a real podman, set up by tests/podman_env.py in a
// temp dir (skipped, saying why, when podman cannot run here).
#include "verdi/container/engine.h"

#include <gtest/gtest.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "base/files.h"
#include "jobspec/json_field.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

class ContainerEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi-engine-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::string cmd = "/usr/bin/python3 " VERDI_SOURCE_DIR "/tests/podman_env.py " +
                      (dir_ / "podman").string() + " 2>" + (dir_ / "why").string();
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int rc = pclose(p);
    if (WEXITSTATUS(rc) == 3) {
      std::string why;
      (void)ReadFileToString((dir_ / "why").string(), &why);
      GTEST_SKIP() << "no container engine can run here: " << why;
    }
    ASSERT_EQ(rc, 0) << out;
    Json doc = Json::parse(out);
    for (const auto& [key, value] : doc["env"].items())
      setenv(key.c_str(), value.get<std::string>().c_str(), 1);
    image_ = doc["image"].get<std::string>();
    settings_.engine = "podman";
  }
  void TearDown() override {
    std::error_code ec;
    // Only the temp storage podman_env.py set up (its env is set) is touched.
    if (!image_.empty()) (void)system("podman rm -af >/dev/null 2>&1");
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  fs::path dir_;
  std::string image_;
  ContainerSettings settings_;
};

TEST_F(ContainerEngineTest, RemovesOrphanContainersAndClosesOutTheirJobs) {
  fs::path job_dir = dir_ / "jobs" / "job-1";
  fs::create_directories(job_dir);
  ASSERT_TRUE(WriteFileAtomic((job_dir / ".running").string(), "2024-01-01T00:00:00Z\nw1\n").ok());
  ASSERT_TRUE(WriteFileAtomic((job_dir / "_job.json").string(),
                              R"({"job_id": "job-1", "job_info": {"status": 0}})")
                  .ok());
  EngineResult r;
  for (const char* worker : {"w1", "w2"}) {
    std::string name = std::string("orphan-") + worker;
    ASSERT_TRUE(
        RunEngine(settings_,
                  {"run", "-d", "--init", "--name", name, "--label",
                   std::string(kLabelWorker) + "=" + worker, "--label",
                   std::string(kLabelJobDir) + "=" + job_dir.string(), image_, "sleep", "600"},
                  std::chrono::seconds(60), &r)
            .ok());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  int removed = 0;
  ASSERT_TRUE(RemoveOrphanContainers(settings_, "w1", WallClock::now(), &removed).ok());
  EXPECT_EQ(removed, 1);
  bool exists = true;
  ASSERT_TRUE(ContainerExists(settings_, "orphan-w1", &exists).ok());
  EXPECT_FALSE(exists);
  ASSERT_TRUE(ContainerExists(settings_, "orphan-w2", &exists).ok());
  EXPECT_TRUE(exists);  // another worker's
  EXPECT_TRUE(fs::exists(job_dir / ".done"));
  EXPECT_FALSE(fs::exists(job_dir / ".running"));
  Json job;
  ASSERT_TRUE(ReadJsonFile((job_dir / "_job.json").string(), &job).ok());
  EXPECT_EQ(job["job_info"]["job_status"], "job-failed");
  EXPECT_EQ(job["job_info"]["status"], 1);
  EXPECT_NE(job["job_info"]["error"].get<std::string>().find("Worker w1 restarted"),
            std::string::npos);
  ASSERT_TRUE(KillContainer(settings_, "orphan-w2").ok());
  ASSERT_TRUE(ContainerExists(settings_, "orphan-w2", &exists).ok());
  EXPECT_FALSE(exists);
}

TEST_F(ContainerEngineTest, InspectAndMissingEngine) {
  std::optional<std::string> id;
  ASSERT_TRUE(InspectImage(settings_, image_, &id).ok());
  EXPECT_TRUE(id.has_value());
  ASSERT_TRUE(InspectImage(settings_, "localhost/no-such:1", &id).ok());
  EXPECT_FALSE(id.has_value());
  ContainerSettings missing;
  missing.engine = "/nonexistent/docker";
  Status st = InspectImage(missing, image_, &id);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/nonexistent/docker"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace verdi
