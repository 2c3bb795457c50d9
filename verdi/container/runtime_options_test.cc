#include "verdi/container/runtime_options.h"

#include <gtest/gtest.h>

#include "verdi/container/run_argv.h"

namespace verdi {
namespace {

const EnvLookup kEnv = LookupIn({"TOKEN=abc", "NL=a\nb", "SHM=1g"});

std::vector<std::string> Args(const Json& options, const ContainerSettings& settings = {}) {
  std::vector<std::string> args;
  Status st = RuntimeOptionArgs(options, settings, kEnv, &args);
  EXPECT_TRUE(st.ok()) << st.message();
  return args;
}

std::string Refusal(const Json& options, const ContainerSettings& settings = {}) {
  std::vector<std::string> args;
  Status st = RuntimeOptionArgs(options, settings, kEnv, &args);
  EXPECT_TRUE(st.IsInvalid()) << options.dump();
  EXPECT_TRUE(args.empty());
  return st.message();
}

TEST(RuntimeOptionsTest, ResourceOptionsAsOneWordEach) {
  ContainerSettings gpu;
  gpu.gpu_available = true;
  EXPECT_EQ(Args({{"memory", "1g"},
                  {"shm-size", "$SHM"},
                  {"cpus", 1.5},
                  {"pids-limit", 100},
                  {"ulimit", {"nofile=1024:1024", "core=0"}},
                  {"env", "T=$TOKEN"},
                  {"gpus", "all"}},
                 gpu),
            (std::vector<std::string>{"--cpus=1.5", "--env=T=abc", "--gpus=all", "--memory=1g",
                                      "--pids-limit=100", "--shm-size=1g",
                                      "--ulimit=nofile=1024:1024", "--ulimit=core=0"}));
  // gpus without HYSDS_GPU_AVAILABLE: left out, as HySDS does.
  EXPECT_EQ(Args({{"gpus", 2}, {"memory-swap", "2g"}}),
            (std::vector<std::string>{"--memory-swap=2g"}));
}

TEST(RuntimeOptionsTest, AValueIsNeverAnotherOption) {
  // The whole value stays in the option's word: the engine reads
  // "1g --privileged" as a (bad) size, never as --privileged.
  EXPECT_EQ(Args({{"memory", "1g --privileged"}}),
            (std::vector<std::string>{"--memory=1g --privileged"}));
  EXPECT_EQ(Args({{"shm-size", "-v=/etc:/x"}}),
            (std::vector<std::string>{"--shm-size=-v=/etc:/x"}));
  EXPECT_NE(Refusal({{"memory", "1g\n--privileged"}}).find("control character"), std::string::npos);
  EXPECT_NE(Refusal({{"memory", std::string("1g\0x", 4)}}).find("control character"),
            std::string::npos);
  EXPECT_NE(Refusal({{"memory", "$NL"}}).find("control character"), std::string::npos);
  EXPECT_NE(Refusal({{"memory", {{"a", 1}}}}).find("expected a string"), std::string::npos);
}

TEST(RuntimeOptionsTest, EverythingElseIsRefusedNamingTheOptionAndTheSetting) {
  for (const char* key : {"privileged",       "cap-add",   "security-opt", "device",
                          "network",          "pid",       "ipc",          "uts",
                          "userns",           "env-file",  "env-host",     "secret",
                          "add-host",         "cgroupns",  "tmpfs",        "entrypoint",
                          "group-add",        "init-path", "runtime",      "cgroup-parent",
                          "oom-kill-disable", "sysctl"}) {
    std::string why = Refusal({{key, "x"}});
    EXPECT_NE(why.find(std::string("runtime_options.") + key), std::string::npos) << why;
    EXPECT_NE(why.find("CONTAINER_ALLOWED_RUNTIME_OPTIONS"), std::string::npos) << why;
  }
  for (const char* key :
       {"volume", "mount", "volumes-from", "name", "label", "user", "workdir", "rm"}) {
    std::string why = Refusal({{key, "/etc:/x"}});
    EXPECT_NE(why.find(std::string("runtime_options.") + key), std::string::npos) << why;
    EXPECT_NE(why.find("never"), std::string::npos) << why;
  }
  // Not a long option name: short ones, dashes, '=' or spaces in the key.
  for (const char* key : {"v", "-v", "--volume", "volume=/etc:/x", "memory /etc", "Memory", ""})
    EXPECT_NE(Refusal({{key, "x"}}).find("long name"), std::string::npos) << key;
  // env: NAME=value only (a bare name or a pattern hands over verdi's own variables).
  for (const char* v : {"TOKEN", "*", "A*", "=x", "1A=x", "A B=x"})
    EXPECT_NE(Refusal({{"env", v}}).find("NAME=value"), std::string::npos) << v;
  EXPECT_NE(Refusal(Json::array()).find("expected an object"), std::string::npos);
}

TEST(RuntimeOptionsTest, TheSettingExtendsTheListButNeverToMounts) {
  ContainerSettings s;
  s.allowed_runtime_options = {"network", "volume"};
  EXPECT_EQ(Args({{"network", "none"}}, s), (std::vector<std::string>{"--network=none"}));
  EXPECT_NE(Refusal({{"volume", "/etc:/x"}}, s).find("never"), std::string::npos);
}

}  // namespace
}  // namespace verdi
