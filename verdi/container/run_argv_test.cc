#include "verdi/container/run_argv.h"

#include <gtest/gtest.h>

namespace verdi {
namespace {

ContainerJob SampleJob() {
  ContainerJob job;
  job.image = "hello:v1";
  job.root_work_dir = "/data/work";
  job.job_dir = "/data/work/jobs/2024/01/01/00/00/job-1";
  job.uid = 1000;
  job.gid = 100;
  job.job_id = "job-1";
  job.task_id = "t-1";
  job.worker_name = "worker@host";
  return job;
}

const EnvLookup kEnv = LookupIn({"HOME=/home/ops", "DATA=/data/in", "TOKEN=abc"});

TEST(ContainerCommandTest, RunArgvOfAPlainJob) {
  std::vector<std::string> argv;
  ASSERT_TRUE(
      ContainerRunArgv(SampleJob(), ContainerSettings(), kEnv, {"echo", "a b"}, &argv).ok());
  std::vector<std::string> want = {
      "docker",   "run",
      "--init",   "--rm",
      "-u",       "1000:100",
      "-v",       "/data/work/jobs:/data/work/jobs",
      "-v",       "/data/work/tasks:/data/work/tasks",
      "-v",       "/data/work/workers:/data/work/workers",
      "-v",       "/data/work/cache:/data/work/cache:ro",
      "-w",       "/data/work/jobs/2024/01/01/00/00/job-1",
      "--label",  "verdi.job_id=job-1",
      "--label",  "verdi.task_id=t-1",
      "--label",  "verdi.worker=worker@host",
      "--label",  "verdi.job_dir=/data/work/jobs/2024/01/01/00/00/job-1",
      "--name",   "verdi-job-1-t-1",
      "hello:v1", "echo",
      "a b"};
  EXPECT_EQ(argv, want);
}

TEST(ContainerCommandTest, OptionsEnvMountsInHysdsOrder) {
  ContainerJob job = SampleJob();
  job.runtime_options = {{"gpus", "all"}, {"shm-size", "1g"}, {"env", "T=$TOKEN"}};
  job.env_names = {"A"};
  job.mappings = {{"$HOME/.netrc", ".netrc"},
                  {"${DATA}/x", {"/in/x", "rw"}},
                  {"/tmp/datasets.json", "/etc/ds.json"}};
  job.datasets_config_file = "/tmp/datasets.json";
  job.worker_config_file = "/cfg/worker.json";
  ContainerSettings settings;
  settings.engine = "/usr/bin/podman";
  settings.global_args = {"--root", "/tmp/s"};
  settings.cache_read_only = false;
  std::vector<std::string> argv;
  ASSERT_TRUE(ContainerRunArgv(job, settings, kEnv, {"run.sh"}, &argv).ok());
  std::vector<std::string> want = {
      "/usr/bin/podman", "--root", "/tmp/s", "run", "--init", "--rm", "-u", "1000:100", "--env",
      "T=abc", "--shm-size", "1g",  // gpus dropped: no HYSDS_GPU_AVAILABLE
      "--env", "A", "-v", "/data/work/jobs:/data/work/jobs", "-v",
      "/data/work/tasks:/data/work/tasks", "-v", "/data/work/workers:/data/work/workers", "-v",
      "/data/work/cache:/data/work/cache",
      // datasets.json is mapped by the user already: not added again
      "-v", "/cfg/worker.json:/data/work/jobs/2024/01/01/00/00/job-1/worker.json:ro", "-v",
      // the user's mappings, in key order (JSON objects are sorted)
      "/home/ops/.netrc:/data/work/jobs/2024/01/01/00/00/job-1/.netrc:ro", "-v",
      "/data/in/x:/in/x:rw", "-v", "/tmp/datasets.json:/etc/ds.json:ro", "-w",
      "/data/work/jobs/2024/01/01/00/00/job-1"};
  ASSERT_GE(argv.size(), want.size());
  EXPECT_EQ(std::vector<std::string>(argv.begin(), argv.begin() + want.size()), want);
  EXPECT_EQ(argv.back(), "run.sh");

  settings.gpu_available = true;
  std::vector<std::string> args;
  ASSERT_TRUE(RuntimeOptionArgs(job.runtime_options, settings, kEnv, &args).ok());
  EXPECT_EQ(args,
            (std::vector<std::string>{"--env", "T=abc", "--gpus", "all", "--shm-size", "1g"}));
}

TEST(ContainerCommandTest, RefusesRootAndBlacklistedMounts) {
  for (const char* host : {"/", "/etc", "/etc/passwd", "/var/run/x", "/tmp/../usr/bin", "/proc/"}) {
    ContainerJob job = SampleJob();
    job.mappings = {{host, "/x"}};
    std::vector<std::string> argv;
    Status st = ContainerRunArgv(job, ContainerSettings(), kEnv, {"true"}, &argv);
    EXPECT_TRUE(st.IsInvalid()) << host;
    EXPECT_NE(st.message().find(std::string("container_mappings.") + host), std::string::npos)
        << st.message();
  }
  ContainerJob job = SampleJob();
  job.mappings = {{"/variable/data", "/x"}, {"/etcetera", "/y"}};  // not under /var or /etc
  std::vector<std::string> argv;
  EXPECT_TRUE(ContainerRunArgv(job, ContainerSettings(), kEnv, {"true"}, &argv).ok());
  job.mappings = {{"relative/path", "/x"}};
  EXPECT_TRUE(ContainerRunArgv(job, ContainerSettings(), kEnv, {"true"}, &argv).IsInvalid());
  job.mappings = {{"/tmp/a", {"/x", "rx"}}};
  EXPECT_TRUE(ContainerRunArgv(job, ContainerSettings(), kEnv, {"true"}, &argv).IsInvalid());
}

TEST(ContainerCommandTest, VerdiHomeRewrite) {
  ContainerJob job = SampleJob();
  job.mappings = {{"/root/.aws", "/home/x/.aws"}, {"/rootless", "/r"}};
  ContainerSettings settings;
  settings.verdi_home = "/root";
  settings.host_verdi_home = "/home/ops";
  std::vector<Mount> mounts;
  ASSERT_TRUE(ContainerMounts(job, settings, kEnv, &mounts).ok());
  EXPECT_EQ(mounts[4], (Mount{"/home/ops/.aws", "/home/x/.aws", "ro"}));
  EXPECT_EQ(mounts[5], (Mount{"/rootless", "/r", "ro"}));
}

TEST(ContainerCommandTest, NamesAndExpansion) {
  EXPECT_EQ(ContainerName("job:a/b c", "7f-2"), "verdi-job_a_b_c-7f-2");
  EXPECT_EQ(ExpandEnvVars("$HOME/a${DATA}b$NOPE ${NOPE} $ $1", kEnv),
            "/home/ops/a/data/inb$NOPE ${NOPE} $ $1");
}

TEST(ContainerCommandTest, DockerParams) {
  ContainerJob job = SampleJob();
  job.runtime_options = {{"shm-size", "1g"}};
  job.env_names = {"MY_API_TOKEN"};
  Json params;
  ASSERT_TRUE(
      DockerParams(job, std::string("file:///img.tar"), ContainerSettings(), kEnv, &params).ok());
  EXPECT_EQ(params["image_name"], "hello:v1");
  EXPECT_EQ(params["image_url"], "file:///img.tar");
  EXPECT_EQ(params["uid"], 1000);
  EXPECT_EQ(params["gid"], 100);
  EXPECT_EQ(params["working_dir"], "/data/work/jobs/2024/01/01/00/00/job-1");
  EXPECT_EQ(params["volumes"][3], Json({"/data/work/cache", "/data/work/cache:ro"}));
  EXPECT_EQ(params["runtime_options"], Json({{"shm-size", "1g"}}));
  EXPECT_EQ(params.dump().find("MY_API_TOKEN"), std::string::npos) << params.dump();

  // Secrets in runtime options stay out of the document.
  EnvLookup secrets = LookupIn({"MY_API_TOKEN=topsecret", "BROKER=amqp://u:topsecret@h//"});
  job.runtime_options = {{"env", "T=$MY_API_TOKEN"}, {"label", "b=${BROKER}"}};
  ASSERT_TRUE(DockerParams(job, std::nullopt, ContainerSettings(), secrets, &params).ok());
  EXPECT_EQ(params["runtime_options"], Json({{"env", "T=***"}, {"label", "b=amqp://u:***@h//"}}));
}

TEST(ContainerCommandTest, EngineArgv) {
  ContainerSettings settings;
  settings.engine = "podman";
  settings.global_args = {"--root=/r"};
  EXPECT_EQ(EngineArgv(settings, {"kill", "n"}),
            (std::vector<std::string>{"podman", "--root=/r", "kill", "n"}));
}

}  // namespace
}  // namespace verdi
