#include "verdi/job/pipeline.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/files.h"
#include "events/job_status_doc.h"

namespace verdi {
namespace {

// A fixed clock and a disk whose free space the test sets.
class FakeMachine : public Machine {
 public:
  WallClock::time_point now =
      WallClock::time_point(std::chrono::seconds(1704164645));  // 2024-01-02T03:04:05Z
  DiskSpace space{50, 100};
  WallClock::time_point Now() override { return now; }
  Status GetDiskSpace(const std::string&, DiskSpace* out) override {
    *out = space;
    return Status::OK();
  }
};

// Interrupts with one request already pending.
class PendingInterrupt : public Interrupts {
 public:
  explicit PendingInterrupt(int sig) : sig_(sig) { pipe2(fds_, O_CLOEXEC | O_NONBLOCK); }
  ~PendingInterrupt() override {
    close(fds_[0]);
    close(fds_[1]);
  }
  int fd() const override { return fds_[0]; }
  int Take() override { return std::exchange(sig_, 0); }

 private:
  int sig_;
  int fds_[2];
};

// The status documents a StatusReporter would send, made of the jobs the
// pipeline reports.
class RecordingObserver : public JobObserver {
 public:
  std::vector<Json> docs;
  void Started(const Json& job) override {
    docs.push_back(JobStatusDocument(job, "job-started", "h", {}, WallClock::now()));
  }
  void Finished(const Json& job, const JobOutcome& outcome) override {
    docs.push_back(JobStatusDocument(job, outcome.status, "h", {}, WallClock::now()));
    docs.push_back(JobInfoDocument(job, WallClock::now()));
  }
};

class JobPipelineTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi-pipeline-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    settings_.root_work_dir = tmp_ / "root";
    settings_.machine = &machine_;
    settings_.owner = "test@host";
    settings_.base_env = {"PATH=/usr/bin:/bin"};
  }
  void TearDown() override { fs::remove_all(tmp_); }

  Json JobWithCommand(const std::string& command) {
    return {{"job_id", "job-1"}, {"type", "job-t:1"}, {"params", {{"_command", command}}}};
  }

  std::string Read(const fs::path& path) {
    std::string text;
    EXPECT_TRUE(ReadFileToString(path, &text).ok()) << path;
    return text;
  }

  fs::path tmp_;
  FakeMachine machine_;
  PipelineSettings settings_;
};

TEST_F(JobPipelineTest, PrepareRejectsAJobWithNothingToRun) {
  PreparedJob prepared;
  Status st = PrepareJob({{"job_id", "job-1"}, {"type", "t"}}, settings_, &prepared);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message().rfind("job.params._command: is missing", 0), 0u) << st.message();
}

TEST_F(JobPipelineTest, PrepareResolvesArgvRootAndJobUrl) {
  settings_.webdav_url = "https://dav.example/";
  PreparedJob prepared;
  ASSERT_TRUE(PrepareJob(JobWithCommand("/bin/echo 'a b' c"), settings_, &prepared).ok());
  EXPECT_EQ(prepared.argv, (std::vector<std::string>{"/bin/echo", "a b", "c"}));
  EXPECT_EQ(prepared.root_work_dir, tmp_ / "root");
  EXPECT_EQ(prepared.webdav_url, "https://dav.example");
  EXPECT_EQ(prepared.job.task_id.size(), 36u);  // made up when missing
  EXPECT_EQ(prepared.job.doc["task_id"], prepared.job.task_id);
}

TEST_F(JobPipelineTest, RunsInTheDirectoryNamedAfterTheStartTime) {
  PreparedJob prepared;
  ASSERT_TRUE(PrepareJob(JobWithCommand("/bin/echo hi"), settings_, &prepared).ok());
  JobOutcome outcome = RunPreparedJob(&prepared, settings_, nullptr);
  EXPECT_EQ(outcome.status, "job-completed");
  EXPECT_EQ(outcome.error, "");
  fs::path dir = tmp_ / "root/jobs/2024/01/02/03/04/job-1";
  EXPECT_EQ(outcome.job_dir, dir);
  EXPECT_EQ(Read(dir / "_stdout.txt"), "hi\n");
  EXPECT_EQ(Read(dir / ".done"), "2024-01-02T03:04:05.000000Z\n");
  Json job = Json::parse(Read(dir / "_job.json"));
  EXPECT_EQ(job["job_info"]["time_start"], "2024-01-02T03:04:05.000000Z");
  EXPECT_EQ(job["job_info"]["job_url"], "http://" +
                                            job["job_info"]["public_ip"].get<std::string>() +
                                            ":8085/jobs/2024/01/02/03/04/job-1");
}

TEST_F(JobPipelineTest, SameJobIdInTheSameMinuteNeverSharesADirectory) {
  std::vector<fs::path> dirs;
  for (int i = 0; i < 2; ++i) {
    PreparedJob prepared;
    ASSERT_TRUE(PrepareJob(JobWithCommand("/bin/true"), settings_, &prepared).ok());
    JobOutcome outcome = RunPreparedJob(&prepared, settings_, nullptr);
    EXPECT_EQ(outcome.status, "job-completed");
    dirs.push_back(outcome.job_dir);
  }
  fs::path base = tmp_ / "root/jobs/2024/01/02/03/04";
  EXPECT_EQ(dirs, (std::vector<fs::path>{base / "job-1", base / "job-1.2"}));
  Json job = Json::parse(Read(dirs[1] / "_job.json"));
  EXPECT_EQ(job["job_info"]["job_dir"], dirs[1].string());
  EXPECT_TRUE(
      job["job_info"]["job_url"].get<std::string>().ends_with("/jobs/2024/01/02/03/04/job-1.2"));
}

TEST_F(JobPipelineTest, ShortDiskFailsBeforeAnyDirectoryWithTheFigures) {
  machine_.space = {5, 100};  // 5% free, 10% needed, nothing to scrub
  PreparedJob prepared;
  ASSERT_TRUE(PrepareJob(JobWithCommand("/bin/true"), settings_, &prepared).ok());
  JobOutcome outcome = RunPreparedJob(&prepared, settings_, nullptr);
  EXPECT_EQ(outcome.status, "job-failed");
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_TRUE(outcome.job_dir.empty());
  EXPECT_NE(outcome.error.find("5% free"), std::string::npos) << outcome.error;
  EXPECT_NE(outcome.error.find("10%"), std::string::npos) << outcome.error;
  EXPECT_FALSE(fs::exists(tmp_ / "root/jobs"));
}

TEST_F(JobPipelineTest, DiskUsageOfTheJobSetsTheThreshold) {
  machine_.space = {30, 100};
  Json job = JobWithCommand("/bin/true");
  job["params"]["_disk_usage"] = "1KB";  // 1024 bytes of a 100-byte disk: never enough
  PreparedJob prepared;
  ASSERT_TRUE(PrepareJob(job, settings_, &prepared).ok());
  EXPECT_EQ(prepared.disk_usage_bytes, 1024u);
  JobOutcome outcome = RunPreparedJob(&prepared, settings_, nullptr);
  EXPECT_EQ(outcome.status, "job-failed");
  EXPECT_TRUE(outcome.job_dir.empty());
}

TEST_F(JobPipelineTest, AStopRequestedDuringSetUpSkipsTheCommandAndClosesOut) {
  PendingInterrupt interrupt(15);
  PreparedJob prepared;
  ASSERT_TRUE(PrepareJob(JobWithCommand("/bin/touch ran"), settings_, &prepared).ok());
  JobOutcome outcome = RunPreparedJob(&prepared, settings_, &interrupt);
  EXPECT_EQ(outcome.status, "job-terminated");
  EXPECT_EQ(outcome.signum, 15);
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_FALSE(fs::exists(outcome.job_dir / "ran"));
  EXPECT_TRUE(fs::exists(outcome.job_dir / ".done"));
  Json job = Json::parse(Read(outcome.job_dir / "_job.json"));
  EXPECT_EQ(job["job_info"]["job_status"], "job-terminated");
  EXPECT_TRUE(job["job_info"]["pid"].is_null());  // HySDS: the command never ran
}

TEST_F(JobPipelineTest, AStopRequestOfARevokedTaskIsJobRevokedAsHySDSNamesIt) {
  PendingInterrupt interrupt(15);
  std::string asked;
  settings_.revoked = [&asked](const std::string& task_id) {
    asked = task_id;
    return true;
  };
  Json payload = JobWithCommand("/bin/touch ran");
  payload["task_id"] = "task-r";
  PreparedJob prepared;
  ASSERT_TRUE(PrepareJob(payload, settings_, &prepared).ok());
  JobOutcome outcome = RunPreparedJob(&prepared, settings_, &interrupt);
  EXPECT_EQ(asked, "task-r");
  EXPECT_EQ(outcome.status, "job-revoked");
  EXPECT_EQ(outcome.error, "Job was revoked with signal 15.");
  EXPECT_EQ(outcome.signum, 15);
  Json job = Json::parse(Read(outcome.job_dir / "_job.json"));
  EXPECT_EQ(job["job_info"]["job_status"], "job-revoked");
  EXPECT_EQ(job["job_info"]["status"], 1);
}

TEST_F(JobPipelineTest, SoftTimeLimitIsHySDSsErrorWithTheClearerLineInStderr) {
  Json payload = JobWithCommand("/bin/sleep 30");
  payload["job_info"] = {{"soft_time_limit", 1}, {"time_limit", 20}};
  settings_.kill_grace = std::chrono::milliseconds(500);
  PreparedJob prepared;
  ASSERT_TRUE(PrepareJob(payload, settings_, &prepared).ok());
  JobOutcome outcome = RunPreparedJob(&prepared, settings_, nullptr);
  EXPECT_EQ(outcome.status, "job-failed");
  EXPECT_EQ(outcome.error, "SoftTimeLimitExceeded()");
  EXPECT_EQ(outcome.exit_code, -15);
  EXPECT_EQ(Read(outcome.job_dir / "_stderr.txt"), "Soft time limit (1s) exceeded for job-1.\n");
  Json job = Json::parse(Read(outcome.job_dir / "_job.json"));
  EXPECT_EQ(job["job_info"]["error"], "SoftTimeLimitExceeded()");
  EXPECT_EQ(job["job_info"]["status"], -15);
}

TEST_F(JobPipelineTest, AMissingCommandEndsAsHySDSsRunnerEndsIt) {
  PreparedJob prepared;
  ASSERT_TRUE(PrepareJob(JobWithCommand("/no/such/program --flag"), settings_, &prepared).ok());
  JobOutcome outcome = RunPreparedJob(&prepared, settings_, nullptr);
  EXPECT_EQ(outcome.status, "job-failed");
  EXPECT_EQ(outcome.error, "Got non-zero exit code: 1");
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(Read(outcome.job_dir / "_exit_code"), "1");
  EXPECT_FALSE(fs::exists(outcome.job_dir / "_pid"));
  EXPECT_EQ(Read(outcome.job_dir / "_stderr.txt"),
            "cannot execute /no/such/program: No such file or directory\n");
  Json info = Json::parse(Read(outcome.job_dir / "_job.json"))["job_info"];
  EXPECT_EQ(info["status"], 1);
  EXPECT_TRUE(info["pid"].is_null());
  EXPECT_EQ(info["error"], "Got non-zero exit code: 1");
}

TEST_F(JobPipelineTest, CommandEnvOverridesTheWorkersEnvironment) {
  settings_.base_env = {"PATH=/usr/bin:/bin", "GREETING=worker", "KEEP=1"};
  fs::path cfg = tmp_ / "worker.json";
  ASSERT_TRUE(WriteFileAtomic(cfg.string(), R"({"configs": [{"type": "job-t:1", "command": {
      "path": "/bin/sh", "arguments": ["-c", "echo $GREETING $KEEP"],
      "env": [{"key": "GREETING", "value": "job"}]}}]})")
                  .ok());
  settings_.worker_config_file = cfg.string();
  PreparedJob prepared;
  ASSERT_TRUE(PrepareJob(JobWithCommand("unused"), settings_, &prepared).ok());
  JobOutcome outcome = RunPreparedJob(&prepared, settings_, nullptr);
  ASSERT_EQ(outcome.status, "job-completed") << outcome.error;
  EXPECT_EQ(Read(outcome.job_dir / "_stdout.txt"), "job 1\n");
}

TEST_F(JobPipelineTest, NoSecretReachesAJobFileOrAStatusWhileTheCommandGetsThemAll) {
  settings_.base_env = {"PATH=/usr/bin:/bin", "CELERY_BROKER_URL=amqp://u:topsecret@h//",
                        "AWS_SECRET_ACCESS_KEY=topsecret"};
  RecordingObserver observer;
  settings_.observer = &observer;
  fs::path cfg = tmp_ / "worker.json";
  // The command checks every value itself, and never writes "topsecret".
  const std::string check =
      "s=top; s=${s}secret; test \"$MY_API_TOKEN\" = $s && "
      "test \"$RESULTS\" = redis://:$s@h:6379/0 && test \"$GRQ\" = https://user:$s@grq/x && "
      "test \"$CELERY_BROKER_URL\" = amqp://u:$s@h// && test \"$AWS_SECRET_ACCESS_KEY\" = $s";
  Json env = Json::array({{{"key", "MY_API_TOKEN"}, {"value", "topsecret"}},
                          {{"key", "RESULTS"}, {"value", "redis://:topsecret@h:6379/0"}},
                          {{"key", "GRQ"}, {"value", "https://user:topsecret@grq/x"}}});
  Json command = {{"path", "/bin/sh"}, {"arguments", Json::array({"-c", check})}, {"env", env}};
  Json config = {{"configs", Json::array({{{"type", "job-t:1"}, {"command", command}}})}};
  ASSERT_TRUE(WriteFileAtomic(cfg.string(), config.dump()).ok());
  settings_.worker_config_file = cfg.string();
  PreparedJob prepared;
  Status st = PrepareJob(JobWithCommand("unused"), settings_, &prepared);
  ASSERT_TRUE(st.ok()) << st.message();
  JobOutcome outcome = RunPreparedJob(&prepared, settings_, nullptr);
  ASSERT_EQ(outcome.status, "job-completed") << outcome.error;

  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(outcome.job_dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::string text = Read(entry.path());
    EXPECT_EQ(text.find("topsecret"), std::string::npos) << entry.path() << ":\n" << text;
  }
  EXPECT_GE(files, 6);
  Json job = Json::parse(Read(outcome.job_dir / "_job.json"));
  EXPECT_EQ(job["command"]["env"], Json::parse(R"([{"key": "MY_API_TOKEN", "value": "***"},
      {"key": "RESULTS", "value": "redis://:***@h:6379/0"},
      {"key": "GRQ", "value": "https://user:***@grq/x"}])"));
  ASSERT_EQ(observer.docs.size(), 3u);
  for (const Json& doc : observer.docs) {
    std::string text = doc.dump();
    EXPECT_EQ(text.find("topsecret"), std::string::npos) << text;
  }
  EXPECT_EQ(observer.docs[0]["job"]["command"]["env"][0]["value"], "***");
}

}  // namespace
}  // namespace verdi
