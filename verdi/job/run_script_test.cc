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
  std::string script =
      RunScript({"PATH=/usr/bin", "MULTI=a\nb", "AWS_SECRET_ACCESS_KEY=abc", "API_KEY=k",
                 "KEYBOARD=us", "DB_PASSWD=p\nw", "CELERY_BROKER_URL=amqp://u:topsecret@h//",
                 "RESULTS=redis://:topsecret@h:6379/0"},
                {}, {"true"});
  EXPECT_EQ(script,
            "#!/bin/bash\n\n#PATH=/usr/bin\n#MULTI=a\\nb\n#AWS_SECRET_ACCESS_KEY=***\n"
            "#API_KEY=***\n#KEYBOARD=us\n#DB_PASSWD=***\n#CELERY_BROKER_URL=amqp://u:***@h//\n"
            "#RESULTS=redis://:***@h:6379/0\n\n\ntrue\n");
}

TEST(RunScriptTest, CommandEnvSecretsAreLeftOutWithALineSaying) {
  std::string script = RunScript({},
                                 {{"MY_API_TOKEN", "topsecret"},
                                  {"GRQ", "https://user:topsecret@grq/x"},
                                  {"PLAIN", "https://grq/x"}},
                                 {"true"});
  EXPECT_EQ(script.find("topsecret"), std::string::npos) << script;
  EXPECT_NE(script.find("\n# MY_API_TOKEN: secret value removed; export it before running\n"),
            std::string::npos)
      << script;
  EXPECT_NE(script.find("\n# GRQ: credentials removed; export it before running\n"),
            std::string::npos)
      << script;
  EXPECT_NE(script.find("\nexport PLAIN=https://grq/x\n"), std::string::npos) << script;
}

TEST(RunScriptTest, ReRunsWithTheSecretsTheCallerExports) {
  ASSERT_EQ(setenv("MY_API_TOKEN", "from-caller", 1), 0);
  std::string out = RunWithBash(RunScript({"MY_API_TOKEN=topsecret"},
                                          {{"MY_API_TOKEN", "topsecret"}, {"GREETING", "hi"}},
                                          {"/bin/sh", "-c", "echo \"$GREETING $MY_API_TOKEN\""}));
  unsetenv("MY_API_TOKEN");
  EXPECT_EQ(out, "hi from-caller\n");
}

}  // namespace
}  // namespace verdi
