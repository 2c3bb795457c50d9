#include "verdi/process/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "verdi/process/interrupts.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::vector<std::string> kEnv = {"PATH=/usr/bin:/bin", "FOO=bar"};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteText(const fs::path& path, const std::string& text, mode_t mode) {
  std::ofstream(path, std::ios::binary) << text;
  fs::permissions(path, static_cast<fs::perms>(mode));
}

/// A process that is gone, or a zombie nobody reaped yet.
bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return true;
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

/// Stop requests from a pipe: each byte written is one signal number.
class PipeInterrupts : public Interrupts {
 public:
  PipeInterrupts() { EXPECT_EQ(pipe2(fds_, O_NONBLOCK | O_CLOEXEC), 0); }
  ~PipeInterrupts() override {
    close(fds_[0]);
    close(fds_[1]);
  }
  int fd() const override { return fds_[0]; }
  int Take() override {
    unsigned char c;
    return read(fds_[0], &c, 1) == 1 ? c : 0;
  }
  void Send(int sig) {
    unsigned char c = static_cast<unsigned char>(sig);
    EXPECT_EQ(write(fds_[1], &c, 1), 1);
  }

 private:
  int fds_[2] = {-1, -1};
};

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_supervisor_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = fs::canonical(tmpl);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  RunRequest Shell(const std::string& script) {
    RunRequest request;
    request.argv = {"/bin/sh", "-c", script};
    request.env = kEnv;
    request.dir = dir_;
    request.hard_deadline = SteadyClock::now() + 20s;  // no test hangs forever
    return request;
  }

  std::string Read(const std::string& name) { return ReadFile(dir_ / name); }

  /// Runs `request` and returns the time it took.
  SteadyClock::duration Run(const RunRequest& request, RunResult* result,
                            Interrupts* interrupts = nullptr) {
    auto start = SteadyClock::now();
    Status st = RunSupervised(request, interrupts, result);
    EXPECT_TRUE(st.ok()) << st.message();
    return SteadyClock::now() - start;
  }

  /// Waits for the child to create `name` in the job dir.
  bool WaitForFile(const std::string& name) {
    for (int i = 0; i < 500; ++i) {
      if (fs::exists(dir_ / name)) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  fs::path dir_;
};

TEST_F(SupervisorTest, SuccessWritesOutputPidAndExitCode) {
  RunResult result;
  Run(Shell("echo out; echo err >&2; printf tail"), &result);
  EXPECT_EQ(result.ending, Ending::kExited);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_GT(result.pid, 0);
  EXPECT_EQ(result.signal, 0);
  EXPECT_TRUE(result.error.empty());
  EXPECT_LE(result.start, result.end);
  EXPECT_EQ(Read("_stdout.txt"), "out\ntail");
  EXPECT_EQ(Read("_stderr.txt"), "err\n");
  EXPECT_EQ(Read("_exit_code"), "0");
  EXPECT_EQ(Read("_pid"), std::to_string(result.pid));
  EXPECT_FALSE(fs::exists(dir_ / ".exit_code_hold"));
}

TEST_F(SupervisorTest, RunsInTheDirWithStdinFromDevNull) {
  RunResult result;
  Run(Shell("pwd; readlink /proc/self/fd/0; cat; echo done"), &result);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(Read("_stdout.txt"), dir_.string() + "\n/dev/null\ndone\n");
}

TEST_F(SupervisorTest, StdinFromTheGivenDescriptorFromItsOffset) {
  int fd = memfd_create("input", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  const std::string input = "skipped|the input\n";
  ASSERT_EQ(write(fd, input.data(), input.size()), static_cast<ssize_t>(input.size()));
  ASSERT_EQ(lseek(fd, 8, SEEK_SET), 8);
  RunRequest request = Shell("cat; ls /proc/self/fd | wc -l");
  request.stdin_fd = fd;
  RunResult result;
  Run(request, &result);
  close(fd);
  EXPECT_EQ(result.exit_code, 0);
  // Only 0, 1, 2 and the fd of ls's own listing.
  EXPECT_EQ(Read("_stdout.txt"), "the input\n4\n");
}

TEST_F(SupervisorTest, EnvironmentIsExactlyTheRequested) {
  ASSERT_EQ(setenv("VERDI_SUPERVISOR_TEST_PARENT", "leak", 1), 0);
  RunResult result;
  Run(Shell("env"), &result);
  unsetenv("VERDI_SUPERVISOR_TEST_PARENT");
  std::string env = Read("_stdout.txt");
  EXPECT_NE(env.find("FOO=bar\n"), std::string::npos) << env;
  EXPECT_NE(env.find("PATH=/usr/bin:/bin\n"), std::string::npos) << env;
  EXPECT_EQ(env.find("VERDI_SUPERVISOR_TEST_PARENT"), std::string::npos) << env;
}

TEST_F(SupervisorTest, LooksUpTheCommandOnTheJobsPath) {
  fs::create_directory(dir_ / "bin");
  WriteText(dir_ / "bin" / "verdi-test-tool", "#!/bin/sh\necho \"tool $1\"\n", 0755);
  RunRequest request = Shell("");
  request.argv = {"verdi-test-tool", "arg"};
  request.env = {"PATH=/nowhere:" + (dir_ / "bin").string()};
  RunResult result;
  Run(request, &result);
  EXPECT_EQ(result.ending, Ending::kExited);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(Read("_stdout.txt"), "tool arg\n");

  // A relative PATH entry counts from the job dir.
  request.env = {"PATH=bin"};
  Run(request, &result);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(Read("_stdout.txt"), "tool arg\n");
}

TEST_F(SupervisorTest, ChildGetsEmptyMaskAndDefaultSignals) {
  struct sigaction ignore {
  }, old_pipe{}, old_int{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old_pipe);
  sigaction(SIGINT, &ignore, &old_int);
  RunResult result;
  {
    SignalInterrupts blocked;  // blocks INT, TERM, HUP, QUIT in verdi
    RunRequest request = Shell("");
    request.argv = {"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"};
    Run(request, &result);
  }
  sigaction(SIGPIPE, &old_pipe, nullptr);
  sigaction(SIGINT, &old_int, nullptr);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(Read("_stdout.txt"), "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

int OpenFds() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST_F(SupervisorTest, NoFdLeaksEitherWay) {
  int stray = open("/dev/null", O_RDONLY);  // no O_CLOEXEC: must not reach the job
  ASSERT_GE(stray, 0);
  const int before = OpenFds();
  RunResult result;
  Run(Shell("ls /proc/self/fd"), &result);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(Read("_stdout.txt"), "0\n1\n2\n3\n");  // 3: ls's own listing
  RunRequest missing = Shell("");
  missing.argv = {"/no/such/cmd"};
  Run(missing, &result);
  EXPECT_EQ(result.ending, Ending::kNotStarted);
  {
    PipeInterrupts interrupts;
    interrupts.Send(SIGTERM);
    Run(Shell("sleep 30"), &result, &interrupts);
    EXPECT_EQ(result.ending, Ending::kInterrupted);
  }
  EXPECT_EQ(OpenFds(), before);
  close(stray);
}

TEST_F(SupervisorTest, NonZeroExit) {
  PipeInterrupts interrupts;  // nothing requested
  RunResult result;
  Run(Shell("exit 3"), &result, &interrupts);
  EXPECT_EQ(result.ending, Ending::kExited);
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.signal, 0);
  EXPECT_EQ(Read("_exit_code"), "3");
}

TEST_F(SupervisorTest, VerdisFilesAreWrittenWhateverTheJobLeftAtTheirNames) {
  // A directory at _exit_code and at .exit_code_hold, the dir without any
  // write bit: the supervisor's names are its own once the job has ended.
  RunResult result;
  Run(Shell("rm .exit_code_hold && mkdir -p .exit_code_hold/x _exit_code/y && "
            "chmod 000 _exit_code && chmod 555 . && exit 4"),
      &result);
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_EQ(Read("_exit_code"), "4");
  EXPECT_FALSE(fs::exists(dir_ / ".exit_code_hold"));
  EXPECT_EQ(Read("_pid"), std::to_string(result.pid));
  struct stat st;
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);  // the owner's write bit given back
}

// The hold verdi made is written in place only while the name is still
// that file alone: a hold the job swapped for a link to another file of the
// same owner leaves that file as it was.
TEST_F(SupervisorTest, AnExitCodeHoldSwappedForAHardLinkIsNotWrittenThrough) {
  fs::path outside = dir_.parent_path() / (dir_.filename().string() + "-outside.txt");
  { std::ofstream(outside) << "host file"; }
  RunResult result;
  Run(Shell("rm .exit_code_hold && ln " + outside.string() + " .exit_code_hold && exit 5"),
      &result);
  EXPECT_EQ(result.exit_code, 5);
  EXPECT_EQ(Read("_exit_code"), "5");
  std::ifstream in(outside);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "host file");
  fs::remove(outside);
}

TEST_F(SupervisorTest, KilledBySignal) {
  RunResult result;
  Run(Shell("kill -9 $$"), &result);
  EXPECT_EQ(result.ending, Ending::kExited);
  EXPECT_EQ(result.exit_code, -9);
  EXPECT_EQ(Read("_exit_code"), "-9");

  Run(Shell("kill -SEGV $$"), &result);
  EXPECT_EQ(result.ending, Ending::kExited);
  EXPECT_EQ(result.exit_code, -11);
  EXPECT_EQ(Read("_exit_code"), "-11");
}

TEST_F(SupervisorTest, MissingExecutable) {
  RunRequest request = Shell("");
  request.argv = {"/no/such/cmd", "x"};
  RunResult result;
  Run(request, &result);
  EXPECT_EQ(result.ending, Ending::kNotStarted);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.pid, 0);
  EXPECT_EQ(result.error, "cannot execute /no/such/cmd: No such file or directory");
  EXPECT_EQ(Read("_stderr.txt"), result.error + "\n");
  EXPECT_EQ(Read("_stdout.txt"), "");
  EXPECT_EQ(Read("_exit_code"), "1");
  // As HySDS's runner when it cannot exec: exit code 1 and no _pid.
  EXPECT_FALSE(fs::exists(dir_ / "_pid"));
  EXPECT_FALSE(fs::exists(dir_ / ".exit_code_hold"));

  request.argv = {"verdi-no-such-command"};
  Run(request, &result);
  EXPECT_EQ(result.ending, Ending::kNotStarted);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(Read("_stderr.txt"),
            "cannot execute verdi-no-such-command: No such file or directory\n");
}

TEST_F(SupervisorTest, NotExecutable) {
  WriteText(dir_ / "plain", "echo hi\n", 0644);
  RunRequest request = Shell("");
  request.argv = {(dir_ / "plain").string()};
  RunResult result;
  Run(request, &result);
  EXPECT_EQ(result.ending, Ending::kNotStarted);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.error, "cannot execute " + request.argv[0] + ": Permission denied");
  EXPECT_EQ(Read("_stderr.txt"), result.error + "\n");
  EXPECT_EQ(Read("_exit_code"), "1");

  // Found on PATH but not executable; and executable but of no known format.
  request.argv = {"plain"};
  request.env = {"PATH=" + dir_.string()};
  Run(request, &result);
  EXPECT_EQ(result.ending, Ending::kNotStarted);
  EXPECT_EQ(result.exit_code, 1);

  WriteText(dir_ / "garbage", std::string("\x01\x02\x03\x04garbage", 11), 0755);
  request.argv = {"./garbage"};
  Run(request, &result);
  EXPECT_EQ(result.ending, Ending::kNotStarted);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.error, "cannot execute ./garbage: Exec format error");
}

TEST_F(SupervisorTest, MissingDirIsAnError) {
  RunRequest request = Shell("true");
  request.dir = dir_ / "missing";
  RunResult result;
  Status st = RunSupervised(request, nullptr, &result);
  EXPECT_TRUE(st.IsIOError());
  EXPECT_EQ(st.message(), "open " + request.dir.string() + ": No such file or directory");
}

TEST_F(SupervisorTest, BinaryOutputAndLongLinesKeptByteForByte) {
  RunResult result;
  Run(Shell("head -c 5000000 /dev/zero; printf '\\001\\377\\n\\000x'; "
            "head -c 3000000 /dev/zero | tr '\\000' a >&2"),
      &result);
  EXPECT_EQ(result.exit_code, 0);
  std::string out = Read("_stdout.txt");
  std::string expected(5000000, '\0');
  expected += std::string("\x01\xff\n\0x", 5);
  EXPECT_TRUE(out == expected) << "size " << out.size();
  std::string err = Read("_stderr.txt");
  EXPECT_TRUE(err == std::string(3000000, 'a')) << "size " << err.size();
}

TEST_F(SupervisorTest, SoftLimitKillsAfterGraceWhenTermIgnored) {
  RunRequest request = Shell("trap '' TERM; sleep 30");
  request.soft_deadline = SteadyClock::now() + 300ms;
  request.kill_grace = 300ms;
  RunResult result;
  auto took = Run(request, &result);
  EXPECT_EQ(result.ending, Ending::kSoftLimit);
  EXPECT_EQ(result.exit_code, -9);
  EXPECT_EQ(Read("_exit_code"), "-9");
  EXPECT_GE(took, 550ms);
  EXPECT_LT(took, 1500ms);
}

TEST_F(SupervisorTest, SoftLimitTerminates) {
  RunRequest request = Shell("sleep 30");
  request.soft_deadline = SteadyClock::now() + 300ms;
  request.kill_grace = 5s;
  RunResult result;
  auto took = Run(request, &result);
  EXPECT_EQ(result.ending, Ending::kSoftLimit);
  EXPECT_EQ(result.exit_code, -15);
  EXPECT_LT(took, 1500ms);
}

TEST_F(SupervisorTest, HardLimitKills) {
  RunRequest request = Shell("sleep 30");
  request.hard_deadline = SteadyClock::now() + 300ms;
  RunResult result;
  auto took = Run(request, &result);
  EXPECT_EQ(result.ending, Ending::kHardLimit);
  EXPECT_EQ(result.exit_code, -9);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 1500ms);
}

TEST_F(SupervisorTest, HardLimitOverridesSoftLimit) {
  RunRequest request = Shell("trap '' TERM; sleep 30");
  request.soft_deadline = SteadyClock::now() + 200ms;
  request.hard_deadline = SteadyClock::now() + 500ms;
  request.kill_grace = 5s;
  RunResult result;
  auto took = Run(request, &result);
  EXPECT_EQ(result.ending, Ending::kHardLimit);
  EXPECT_EQ(result.exit_code, -9);
  EXPECT_LT(took, 1500ms);
}

TEST_F(SupervisorTest, ExitBeforeDeadlinesStaysExited) {
  RunRequest request = Shell("exit 4");
  request.soft_deadline = SteadyClock::now() + 2s;
  request.hard_deadline = SteadyClock::now() + 3s;
  RunResult result;
  auto took = Run(request, &result);
  EXPECT_EQ(result.ending, Ending::kExited);
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_LT(took, 1s);
}

TEST_F(SupervisorTest, KillsTheRestOfTheGroupWhenTheChildExits) {
  RunResult result;
  auto took = Run(Shell("sleep 300 & echo $! > bg.pid; exit 0"), &result);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_LT(took, 2s);
  std::string text = Read("bg.pid");
  ASSERT_FALSE(text.empty());
  pid_t bg = static_cast<pid_t>(std::stol(text));
  ASSERT_GT(bg, 1);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = ProcessGone(bg);
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(gone) << "background sleep " << bg << " survived the job";
  if (!gone) kill(bg, SIGKILL);
}

// Born in the job's cgroup: there is no instant in which a fork of the
// command could start outside it.
TEST_F(SupervisorTest, TheChildIsBornInTheJobsCgroup) {
  RunResult result;
  Run(Shell("cat /proc/self/cgroup > cgroup.txt"), &result);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(Read("cgroup.txt").find("/verdi-job-"), std::string::npos) << Read("cgroup.txt");
}

// verdi killed with SIGKILL while a job runs: its command, a daemon it
// started in another session, and (through the clean-up command) whatever
// else it left are gone at once, not when a later worker recovers.
TEST_F(SupervisorTest, NothingRunsOnWhenTheSupervisorIsKilled) {
  RunRequest request =
      Shell("setsid sleep 300 & echo $! > daemon.pid; echo $$ > cmd.pid; exec sleep 300");
  request.orphan_cleanup = {"/bin/sh", "-c", "echo cleaned > " + (dir_ / "cleaned").string()};
  pid_t supervisor = fork();
  ASSERT_GE(supervisor, 0);
  if (supervisor == 0) {
    RunResult ignored;
    (void)RunSupervised(request, nullptr, &ignored);
    _exit(0);
  }
  ASSERT_TRUE(WaitForFile("daemon.pid"));
  ASSERT_TRUE(WaitForFile("cmd.pid"));
  std::this_thread::sleep_for(50ms);  // the watchdog is up once the command ran
  kill(supervisor, SIGKILL);
  int status;
  ASSERT_EQ(waitpid(supervisor, &status, 0), supervisor);
  for (const char* name : {"daemon.pid", "cmd.pid"}) {
    pid_t pid = static_cast<pid_t>(std::stol(Read(name)));
    bool gone = false;
    for (int i = 0; i < 300 && !gone; ++i) {
      gone = ProcessGone(pid);
      if (!gone) std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(gone) << name << " " << pid << " outlived its supervisor";
    if (!gone) kill(pid, SIGKILL);
  }
  EXPECT_TRUE(WaitForFile("cleaned")) << "the clean-up command did not run";
}

// A job that ends under supervision leaves no watchdog behind, and its
// clean-up command does not run.
TEST_F(SupervisorTest, TheWatchdogEndsWithTheJob) {
  RunRequest request = Shell("exit 0");
  request.orphan_cleanup = {"/bin/sh", "-c", "echo cleaned > " + (dir_ / "cleaned").string()};
  RunResult result;
  Run(request, &result);
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(fs::exists(dir_ / "cleaned"));
  // No child of this process is left (the watchdog was reaped).
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(SupervisorTest, InterruptForwardsTheSignal) {
  PipeInterrupts interrupts;
  RunRequest request = Shell("touch ready; sleep 30");
  request.kill_grace = 5s;
  std::thread sender([&] {
    if (WaitForFile("ready")) interrupts.Send(SIGTERM);
  });
  RunResult result;
  auto took = Run(request, &result, &interrupts);
  sender.join();
  EXPECT_EQ(result.ending, Ending::kInterrupted);
  EXPECT_EQ(result.signal, SIGTERM);
  EXPECT_EQ(result.exit_code, -15);
  EXPECT_EQ(Read("_exit_code"), "-15");
  EXPECT_LT(took, 2s);
}

TEST_F(SupervisorTest, InterruptKillsAfterGraceWhenIgnored) {
  PipeInterrupts interrupts;
  RunRequest request = Shell("trap '' TERM INT; touch ready; sleep 30");
  request.kill_grace = 300ms;
  std::thread sender([&] {
    if (WaitForFile("ready")) interrupts.Send(SIGINT);
  });
  RunResult result;
  auto took = Run(request, &result, &interrupts);
  sender.join();
  EXPECT_EQ(result.ending, Ending::kInterrupted);
  EXPECT_EQ(result.signal, SIGINT);
  EXPECT_EQ(result.exit_code, -9);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 2s);
}

TEST_F(SupervisorTest, SecondInterruptKillsAtOnce) {
  PipeInterrupts interrupts;
  RunRequest request = Shell("trap '' TERM; touch ready; sleep 30");
  request.kill_grace = 10s;
  std::thread sender([&] {
    if (!WaitForFile("ready")) return;
    interrupts.Send(SIGTERM);
    std::this_thread::sleep_for(200ms);
    interrupts.Send(SIGTERM);
  });
  RunResult result;
  auto took = Run(request, &result, &interrupts);
  sender.join();
  EXPECT_EQ(result.ending, Ending::kInterrupted);
  EXPECT_EQ(result.signal, SIGTERM);
  EXPECT_EQ(result.exit_code, -9);
  EXPECT_LT(took, 2s);
}

bool Blocked(int sig) {
  sigset_t mask;
  sigemptyset(&mask);
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, sig) == 1;
}

bool Readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

TEST(InterruptsTest, SignalInterruptsTakesBlockedSignals) {
  ASSERT_FALSE(Blocked(SIGTERM));
  ASSERT_FALSE(Blocked(SIGHUP));
  {
    SignalInterrupts interrupts;
    ASSERT_GE(interrupts.fd(), 0);
    EXPECT_TRUE(Blocked(SIGINT));
    EXPECT_TRUE(Blocked(SIGTERM));
    EXPECT_TRUE(Blocked(SIGHUP));
    EXPECT_TRUE(Blocked(SIGQUIT));
    EXPECT_FALSE(Readable(interrupts.fd(), 0));
    EXPECT_EQ(interrupts.Take(), 0);

    ASSERT_EQ(raise(SIGTERM), 0);
    EXPECT_TRUE(Readable(interrupts.fd(), 1000));
    EXPECT_EQ(interrupts.Take(), SIGTERM);
    EXPECT_EQ(interrupts.Take(), 0);

    ASSERT_EQ(kill(getpid(), SIGHUP), 0);
    EXPECT_TRUE(Readable(interrupts.fd(), 1000));
    EXPECT_EQ(interrupts.Take(), SIGHUP);
    EXPECT_FALSE(Readable(interrupts.fd(), 0));
  }
  EXPECT_FALSE(Blocked(SIGTERM));
  EXPECT_FALSE(Blocked(SIGHUP));
  EXPECT_FALSE(Blocked(SIGINT));
  EXPECT_FALSE(Blocked(SIGQUIT));
}

TEST(InterruptsTest, SignalInterruptsKeepsWhatWasBlockedBefore) {
  sigset_t quit, old;
  sigemptyset(&quit);
  sigaddset(&quit, SIGQUIT);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &quit, &old), 0);
  { SignalInterrupts interrupts; }
  EXPECT_TRUE(Blocked(SIGQUIT));
  EXPECT_FALSE(Blocked(SIGTERM));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace
}  // namespace verdi
