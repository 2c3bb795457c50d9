#include "verdi/job/python_processor.h"

#include <stdlib.h>

#include <fstream>

#include <gtest/gtest.h>

namespace verdi {
namespace {

namespace fs = std::filesystem;
using Kind = PythonProcessorCall::Kind;
using namespace std::chrono_literals;

// The module `procs` in a directory on PYTHONPATH, and a job dir.
class PythonProcessorTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi-python-processor-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = fs::canonical(tmpl);
    fs::create_directories(root_ / "lib");
    fs::create_directories(root_ / "job");
    std::ofstream(root_ / "lib" / "procs.py") << R"(
import os, sys, time

def changes(job, ctx):
    print("printed by the function")
    os.system("echo printed by a child")
    job["job_info"]["seen_cwd"] = os.getcwd()
    job["job_info"]["cmdline"] = open("/proc/self/cmdline").read()
    ctx["added"] = ctx["given"] + 1
    return {"any": "truthy value"}

def says_no(job, ctx):
    return None

def raises(job, ctx):
    job["job_info"]["before_raise"] = True
    raise ValueError("bad input " + ctx["given_text"])

def raises_empty(job, ctx):
    raise RuntimeError()

def exits(job, ctx):
    sys.stderr.write("about to leave\n")
    os._exit(3)

def unserializable(job, ctx):
    ctx["when"] = object()
    return True

def sleeps(job, ctx):
    time.sleep(30)

def imports_planted(job, ctx):
    import planted
    return True
)";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  PythonProcessorRequest Request(const std::string& name) {
    PythonProcessorRequest r;
    r.label = "post-processor";
    r.name = name;
    r.python = "/usr/bin/python3";
    r.job_dir = root_ / "job";
    r.env = {"PATH=/usr/bin:/bin", "PYTHONPATH=" + (root_ / "lib").string()};
    r.hard_deadline = SteadyClock::now() + 20s;  // no test hangs forever
    r.kill_grace = 100ms;
    return r;
  }

  PythonProcessorCall Call(const PythonProcessorRequest& request) {
    PythonProcessorCall call;
    Status st = CallPythonProcessor(request, job_, context_, nullptr, &call);
    EXPECT_TRUE(st.ok()) << st.message();
    return call;
  }

  fs::path root_;
  Json job_ = {{"job_id", "j1"}, {"job_info", {{"status", 0}}}};
  Json context_ = {{"given", 41}, {"given_text", "x\u00e9y"}};
};

TEST_F(PythonProcessorTest, ReturnsItsValueAndWhatItChangedInTheJobDir) {
  PythonProcessorCall call = Call(Request("procs.changes"));
  ASSERT_EQ(call.kind, Kind::kReturned);
  EXPECT_TRUE(call.proceed);
  EXPECT_EQ(call.result, "{'any': 'truthy value'}");
  ASSERT_TRUE(call.job && call.context);
  EXPECT_EQ((*call.context)["added"], 42);
  EXPECT_EQ((*call.context)["given_text"], "x\u00e9y");
  EXPECT_EQ((*call.job)["job_info"]["seen_cwd"], (root_ / "job").string());
  EXPECT_EQ((*call.job)["job_info"]["status"], 0);
  // The job reached it on stdin, not in its argv.
  std::string cmdline = (*call.job)["job_info"]["cmdline"];
  EXPECT_EQ(cmdline.find("given_text"), std::string::npos);
  EXPECT_NE(cmdline.find("procs.changes"), std::string::npos);
  // What it printed, and its children, went to its output, not the answer.
  EXPECT_NE(call.output.find("printed by the function"), std::string::npos) << call.output;
  EXPECT_NE(call.output.find("printed by a child"), std::string::npos) << call.output;
  // The scratch dir is gone.
  EXPECT_TRUE(fs::is_empty(root_ / "job"));
}

TEST_F(PythonProcessorTest, AFalseValueDoesNotProceed) {
  PythonProcessorCall call = Call(Request("procs.says_no"));
  ASSERT_EQ(call.kind, Kind::kReturned);
  EXPECT_FALSE(call.proceed);
  EXPECT_EQ(call.result, "None");
}

TEST_F(PythonProcessorTest, AnExceptionAsHysdsReportsIt) {
  PythonProcessorCall call = Call(Request("procs.raises"));
  ASSERT_EQ(call.kind, Kind::kRaised);
  EXPECT_EQ(call.error, "bad input x\u00e9y");  // str(e), as HySDS's error
  EXPECT_EQ(call.exception, "ValueError");
  EXPECT_NE(call.traceback.find("Traceback (most recent call last)"), std::string::npos);
  EXPECT_NE(call.traceback.find("ValueError: bad input"), std::string::npos) << call.traceback;
  ASSERT_TRUE(call.job);  // what it changed before raising stays changed
  EXPECT_EQ((*call.job)["job_info"]["before_raise"], true);

  call = Call(Request("procs.raises_empty"));
  ASSERT_EQ(call.kind, Kind::kRaised);
  EXPECT_EQ(call.error, "RuntimeError()");
}

TEST_F(PythonProcessorTest, AMissingModuleOrFunctionNamesTheProcessor) {
  PythonProcessorCall call = Call(Request("no_such_module.func"));
  ASSERT_EQ(call.kind, Kind::kRaised);
  EXPECT_EQ(call.error,
            "post-processor no_such_module.func could not be imported: ModuleNotFoundError: No "
            "module named 'no_such_module'");
  EXPECT_FALSE(call.job);
  call = Call(Request("procs.no_such_func"));
  ASSERT_EQ(call.kind, Kind::kRaised);
  EXPECT_EQ(call.error,
            "post-processor procs.no_such_func could not be imported: AttributeError: module "
            "'procs' has no attribute 'no_such_func'");
}

TEST_F(PythonProcessorTest, NothingInTheJobDirCanStandInForAModule) {
  std::ofstream(root_ / "job" / "planted.py") << "raise SystemExit('planted code ran')\n";
  std::ofstream(root_ / "job" / "json.py") << "raise SystemExit('planted json ran')\n";
  // Not even through PYTHONPATH.
  PythonProcessorRequest request = Request("procs.imports_planted");
  request.env.back() += ":" + (root_ / "job").string();
  PythonProcessorCall call = Call(request);
  ASSERT_EQ(call.kind, Kind::kRaised);
  EXPECT_EQ(call.error, "No module named 'planted'");
  EXPECT_EQ(call.output.find("planted"), std::string::npos) << call.output;
}

TEST_F(PythonProcessorTest, MissingPythonNamesTheProcessor) {
  PythonProcessorRequest request = Request("procs.changes");
  request.python = "python3";
  request.env = {"PATH=" + (root_ / "lib").string()};  // no python3 there
  PythonProcessorCall call;
  Status st = CallPythonProcessor(request, job_, context_, nullptr, &call);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind("post-processor procs.changes: cannot execute python3: ", 0), 0u)
      << st.message();
}

TEST_F(PythonProcessorTest, NoAnswerOrAnUnserializableChangeIsAnError) {
  PythonProcessorCall call;
  Status st = CallPythonProcessor(Request("procs.exits"), job_, context_, nullptr, &call);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(),
            "post-processor procs.exits: /usr/bin/python3 exited with code 3 without an answer; "
            "its output: about to leave");
  st = CallPythonProcessor(Request("procs.unserializable"), job_, context_, nullptr, &call);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind("post-processor procs.unserializable: left a value in the job or "
                               "the context that JSON cannot hold: ",
                               0),
            0u)
      << st.message();
}

TEST_F(PythonProcessorTest, ADeadlineStopsIt) {
  PythonProcessorRequest request = Request("procs.sleeps");
  request.hard_deadline = SteadyClock::now() + 1s;
  auto start = SteadyClock::now();
  PythonProcessorCall call = Call(request);
  EXPECT_LT(SteadyClock::now() - start, 10s);
  ASSERT_EQ(call.kind, Kind::kStopped);
  EXPECT_EQ(call.run.ending, Ending::kHardLimit);
}

}  // namespace
}  // namespace verdi
