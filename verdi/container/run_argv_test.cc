#include "verdi/container/run_argv.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "tests/test_files.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

class ContainerCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi-run-argv-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    t_ = tmpl;
    root_ = t_ / "work";
    job_dir_ = root_ / "jobs/2024/01/01/00/00/job-1";
    for (const fs::path& d :
         {job_dir_, root_ / "cache", t_ / "home/ops/.aws", t_ / "data/in/x", t_ / "ro"})
      fs::create_directories(d);
    test_files::Write(t_ / "home/ops/.netrc", "machine x\n");
    test_files::Write(t_ / "cfg/datasets.json", "{}");
    test_files::Write(t_ / "cfg/worker.json", "{}");
    env_ = LookupIn(
        {"HOME=" + (t_ / "home/ops").string(), "DATA=" + (t_ / "data/in").string(), "TOKEN=abc"});
  }
  void TearDown() override { fs::remove_all(t_); }

  ContainerJob Job() const {
    ContainerJob job;
    job.image = "hello:v1";
    job.root_work_dir = root_;
    job.job_dir = job_dir_;
    job.uid = 1000;
    job.gid = 100;
    job.job_id = "job-1";
    job.task_id = "t-1";
    job.worker_name = "worker@host";
    return job;
  }
  std::string Dir() const { return job_dir_.string(); }
  std::string T(const std::string& rel) const { return (t_ / rel).string(); }
  // The refusal of a job with these mappings (and no other change).
  std::string Refusal(const Json& mappings, const ContainerSettings& s = ContainerSettings()) {
    ContainerJob job = Job();
    job.mappings = mappings;
    std::vector<std::string> argv;
    Status st = ContainerRunArgv(job, s, env_, {"true"}, &argv);
    EXPECT_TRUE(st.IsInvalid()) << mappings.dump() << " " << st.message();
    return st.message();
  }

  fs::path t_, root_, job_dir_;
  EnvLookup env_;
};

TEST_F(ContainerCommandTest, RunArgvOfAPlainJobMountsOnlyItsOwnDir) {
  std::vector<std::string> argv;
  ASSERT_TRUE(ContainerRunArgv(Job(), ContainerSettings(), env_, {"echo", "a b"}, &argv).ok());
  std::string cache = (root_ / "cache").string();
  std::vector<std::string> want = {"docker",   "run",
                                   "--init",   "--rm",
                                   "-u",       "1000:100",
                                   "-v",       Dir() + ":" + Dir(),
                                   "-v",       cache + ":" + cache + ":ro",
                                   "-w",       Dir(),
                                   "--label",  "verdi.job_id=job-1",
                                   "--label",  "verdi.task_id=t-1",
                                   "--label",  "verdi.worker=worker@host",
                                   "--label",  "verdi.job_dir=" + Dir(),
                                   "--name",   "verdi-job-1-t-1",
                                   "hello:v1", "echo",
                                   "a b"};
  EXPECT_EQ(argv, want);
}

TEST_F(ContainerCommandTest, HysdsLayoutMountsTheWholeTrees) {
  ContainerSettings settings;
  settings.mount_layout = MountLayout::kHysds;
  for (const char* sub : {"tasks", "workers"}) fs::create_directories(root_ / sub);
  std::vector<Mount> mounts;
  ASSERT_TRUE(ContainerMounts(Job(), settings, env_, &mounts).ok());
  std::string r = root_.string();
  EXPECT_EQ(mounts, (std::vector<Mount>{{r + "/jobs", r + "/jobs", ""},
                                        {r + "/tasks", r + "/tasks", ""},
                                        {r + "/workers", r + "/workers", ""},
                                        {r + "/cache", r + "/cache", "ro"}}));
}

TEST_F(ContainerCommandTest, OptionsEnvAndMountsInOrder) {
  ContainerJob job = Job();
  job.runtime_options = {{"gpus", "all"}, {"shm-size", "1g"}, {"env", "T=$TOKEN"}};
  job.env_names = {"A"};
  job.mappings = {{"$HOME/.netrc", ".netrc"},
                  {"${DATA}/x", {"/in/x", "rw"}},
                  {T("cfg/datasets.json"), "/etc/ds.json"}};
  job.datasets_config_file = T("cfg/datasets.json");
  job.worker_config_file = T("cfg/worker.json");
  ContainerSettings settings;
  settings.engine = "/usr/bin/podman";
  settings.global_args = {"--root", T("storage")};
  settings.cache_read_only = false;
  std::vector<std::string> argv;
  Status st = ContainerRunArgv(job, settings, env_, {"run.sh"}, &argv);
  ASSERT_TRUE(st.ok()) << st.message();
  std::string cache = (root_ / "cache").string();
  std::vector<std::string> want = {
      "/usr/bin/podman", "--root", T("storage"), "run", "--init", "--rm", "-u", "1000:100",
      "--env=T=abc", "--shm-size=1g",  // gpus dropped: no HYSDS_GPU_AVAILABLE
      "--env", "A", "-v", Dir() + ":" + Dir(), "-v", cache + ":" + cache,
      // datasets.json is mapped by the user already: not added again
      "-v", T("cfg/worker.json") + ":" + Dir() + "/worker.json:ro",
      // the user's mappings, in key order (JSON objects are sorted)
      "-v", T("home/ops/.netrc") + ":" + Dir() + "/.netrc:ro", "-v", T("data/in/x") + ":/in/x:rw",
      "-v", T("cfg/datasets.json") + ":/etc/ds.json:ro", "-w", Dir()};
  ASSERT_GE(argv.size(), want.size());
  EXPECT_EQ(std::vector<std::string>(argv.begin(), argv.begin() + want.size()), want);
  EXPECT_EQ(argv.back(), "run.sh");
}

TEST_F(ContainerCommandTest, RefusesSensitiveAndBlacklistedMountsNamingThem) {
  fs::create_symlink("/etc", t_ / "etc-link");
  for (const std::string& host :
       {std::string("/"), std::string("/etc"), std::string("/etc/passwd"), std::string("/var/run"),
        std::string("/tmp/../usr/bin"), std::string("/proc/"), std::string("/bin"),
        std::string("/sys"), T("etc-link"), T("home/ops"), T("home"), T("work/jobs")}) {
    std::string why = Refusal({{host, "/x"}});
    EXPECT_NE(why.find("container_mappings." + host + ": refusing"), std::string::npos) << why;
  }
  // The resolved path is named, and where it came from.
  EXPECT_NE(Refusal({{T("etc-link"), "/x"}}).find("refusing to mount /etc (from " + T("etc-link")),
            std::string::npos);
  EXPECT_NE(Refusal({{"/bin", "/x"}}).find("blacklisted /usr"), std::string::npos);
  // Not under /var or /etc: allowed.
  fs::create_directories(t_ / "variable");
  ContainerJob job = Job();
  job.mappings = {{T("variable"), "/x"}, {T("ro"), "/y"}};
  std::vector<std::string> argv;
  EXPECT_TRUE(ContainerRunArgv(job, ContainerSettings(), env_, {"true"}, &argv).ok());
  EXPECT_NE(Refusal({{"relative/path", "/x"}}).find("must be absolute"), std::string::npos);
  EXPECT_NE(Refusal({{T("ro"), {"/x", "rx"}}}).find("expected a container path"),
            std::string::npos);
  EXPECT_NE(Refusal({{"$HOME/.netrc", {"/x", "rw"}}}).find("may only read"), std::string::npos);
}

TEST_F(ContainerCommandTest, AMissingHostPathIsRefused) {
  std::string why = Refusal({{T("nope/deeper"), "/x"}});
  EXPECT_NE(why.find("does not exist on this host"), std::string::npos) << why;
  EXPECT_NE(why.find("as root"), std::string::npos) << why;
}

TEST_F(ContainerCommandTest, TheEngineGetsTheResolvedPath) {
  fs::create_symlink(t_ / "data/in", t_ / "link");
  ContainerJob job = Job();
  job.mappings = {{T("link") + "/./x/..", "/in"}};
  std::vector<Mount> mounts;
  ASSERT_TRUE(ContainerMounts(job, ContainerSettings(), env_, &mounts).ok());
  EXPECT_EQ(mounts.back(), (Mount{T("data/in"), "/in", "ro"}));
  // Swapping the link afterwards changes nothing the engine was given.
  fs::remove(t_ / "link");
  fs::create_symlink("/etc", t_ / "link");
  EXPECT_EQ(mounts.back().host, T("data/in"));
}

TEST_F(ContainerCommandTest, PathsTheEngineWouldSplitAreRefused) {
  fs::create_directories(t_ / "a:b");
  EXPECT_NE(Refusal({{T("a:b"), "/x"}}).find("':'"), std::string::npos);
  EXPECT_NE(Refusal({{T("ro"), "/x:rw"}}).find("':'"), std::string::npos);
  EXPECT_NE(Refusal({{T("ro"), "/x\n"}}).find("control"), std::string::npos);
}

TEST_F(ContainerCommandTest, VerdiHomeRewrite) {
  ContainerJob job = Job();
  job.mappings = {{"/root/.aws", "/home/x/.aws"}};
  ContainerSettings settings;
  settings.verdi_home = "/root";
  settings.host_verdi_home = T("home/ops");
  std::vector<Mount> mounts;
  Status st = ContainerMounts(job, settings, env_, &mounts);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(mounts.back(), (Mount{T("home/ops/.aws"), "/home/x/.aws", "ro"}));
}

TEST_F(ContainerCommandTest, NamesAndExpansion) {
  EXPECT_EQ(ContainerName("job:a/b c", "7f-2"), "verdi-job_a_b_c-7f-2");
  EXPECT_EQ(ExpandEnvVars("$TOKEN/a${TOKEN}b$NOPE ${NOPE} $ $1", env_),
            "abc/aabcb$NOPE ${NOPE} $ $1");
}

TEST_F(ContainerCommandTest, DockerParamsShowWhatIsMounted) {
  fs::create_symlink(t_ / "data/in", t_ / "link");
  ContainerJob job = Job();
  job.runtime_options = {{"shm-size", "1g"}, {"ulimit", {"nofile=1:1"}}};
  job.env_names = {"MY_API_TOKEN"};
  job.mappings = {{T("link"), "/in"}};
  Json params;
  ASSERT_TRUE(
      DockerParams(job, std::string("file:///img.tar"), ContainerSettings(), env_, &params).ok());
  EXPECT_EQ(params["image_name"], "hello:v1");
  EXPECT_EQ(params["image_url"], "file:///img.tar");
  EXPECT_EQ(params["uid"], 1000);
  EXPECT_EQ(params["gid"], 100);
  EXPECT_EQ(params["working_dir"], Dir());
  std::string cache = (root_ / "cache").string();
  EXPECT_EQ(params["volumes"],
            Json::array({Json::array({Dir(), Dir()}), Json::array({cache, cache + ":ro"}),
                         Json::array({T("data/in"), "/in:ro"})}));
  EXPECT_EQ(params["runtime_options"], Json({{"shm-size", "1g"}, {"ulimit", {"nofile=1:1"}}}));
  EXPECT_EQ(params.dump().find("MY_API_TOKEN"), std::string::npos) << params.dump();

  // Secrets in runtime options stay out of the document.
  EnvLookup secrets = LookupIn({"MY_API_TOKEN=topsecret", "BROKER=amqp://u:topsecret@h//"});
  job.mappings = Json::object();
  job.runtime_options = {{"env", {"T=$MY_API_TOKEN", "B=${BROKER}"}}};
  ASSERT_TRUE(DockerParams(job, std::nullopt, ContainerSettings(), secrets, &params).ok());
  EXPECT_EQ(params["runtime_options"], Json({{"env", {"T=***", "B=amqp://u:***@h//"}}}));
}

TEST_F(ContainerCommandTest, AnImageNameIsNeverAnOption) {
  for (const char* name : {"--privileged", "-v=/:/host", "a b", "x\n", "", ".hidden", "a;b"}) {
    ContainerJob job = Job();
    job.image = name;
    std::vector<std::string> argv;
    Status st = ContainerRunArgv(job, ContainerSettings(), env_, {"true"}, &argv);
    EXPECT_NE(st.message().find("container_image_name"), std::string::npos) << name;
    Json params;
    EXPECT_TRUE(DockerParams(job, std::nullopt, ContainerSettings(), env_, &params).IsInvalid());
  }
  for (const char* name : {"hello:v1", "localhost/verdi-test-busybox:1",
                           "registry.example.com:5000/a/b@sha256:0123abcd", "_x"})
    EXPECT_TRUE(CheckImageName(name).ok()) << name;
}

TEST_F(ContainerCommandTest, EngineArgv) {
  ContainerSettings settings;
  settings.engine = "podman";
  settings.global_args = {"--root=/r"};
  EXPECT_EQ(EngineArgv(settings, {"kill", "n"}),
            (std::vector<std::string>{"podman", "--root=/r", "kill", "n"}));
}

}  // namespace
}  // namespace verdi
