#include "verdi/job/run_script.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace verdi {
namespace {

// Runs `script` with bash and returns what it printed on stdout.
std::string RunWithBash(const std::string& script) {
  char dir[] = "/tmp/verdi-run-script-XXXXXX";
  EXPECT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/_run.sh";
  std::ofstream(path) << script;
  std::string out;
  FILE* p = popen(("/bin/bash " + path).c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  std::remove(path.c_str());
  rmdir(dir);
  return out;
}

TEST(RunScriptTest, RepeatsExactlyTheSameArgv) {
  std::vector<std::string> argv = {
      "/usr/bin/printf", "[%s]\\n",    "it's", "two words", "$HOME", "`id`", "*", "", "a\nb",
      "\"q\"",           "back\\slash"};
  std::string out = RunWithBash(RunScript({}, {}, argv));
  EXPECT_EQ(out, "[it's]\n[two words]\n[$HOME]\n[`id`]\n[*]\n[]\n[a\nb]\n[\"q\"]\n[back\\slash]\n");
}

TEST(RunScriptTest, ExportsCommandEnvQuoted) {
  std::string out = RunWithBash(
      RunScript({}, {{"GREETING", "hello 'you' $USER"}}, {"/bin/sh", "-c", "echo \"$GREETING\""}));
  EXPECT_EQ(out, "hello 'you' $USER\n");
}

TEST(RunScriptTest, WorkerEnvIsCommentedOneLineEachWithSecretsHidden) {
  std::string script = RunScript(
      {"PATH=/usr/bin", "MULTI=a\nb", "AWS_SECRET_ACCESS_KEY=abc", "API_KEY=k", "KEYBOARD=us"}, {},
      {"true"});
  EXPECT_EQ(script,
            "#!/bin/bash\n\n#PATH=/usr/bin\n#MULTI=a\\nb\n#AWS_SECRET_ACCESS_KEY=***\n"
            "#API_KEY=***\n#KEYBOARD=us\n\n\ntrue\n");
}

}  // namespace
}  // namespace verdi
