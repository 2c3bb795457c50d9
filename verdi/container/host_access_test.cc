// The host access rule on real files: links, aliases, the work root, a home.
#include "verdi/container/host_access.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "tests/test_files.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;
using test_files::Write;

class HostAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi-host-access-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    t_ = tmpl;
    root_ = t_ / "work";
    job_ = root_ / "jobs/2024/01/01/00/00/job-1";
    other_ = root_ / "jobs/2024/01/01/00/00/job-2";
    home_ = t_ / "home/ops";
    for (const fs::path& d :
         {job_, other_, root_ / "tasks", root_ / "workers", root_ / "cache/a", home_ / ".ssh",
          home_ / ".aws", home_ / ".config/containers", t_ / "data/in", t_ / "storage"})
      fs::create_directories(d);
    Write(home_ / ".netrc", "machine x\n");
    Write(home_ / "verdi/etc/settings.yaml", "a: 1\n");
    Write(t_ / "cfg/datasets.json", "{}");
    Write(t_ / "storage.conf", "[storage]\ngraphroot = \"" + (t_ / "graph").string() + "\"\n");
  }
  void TearDown() override { fs::remove_all(t_); }

  HostAccess Make(ContainerSettings settings = ContainerSettings()) {
    HostAccess a;
    EnvLookup env = LookupOf({"HOME=" + home_.string(),
                              "CONTAINERS_STORAGE_CONF=" + (t_ / "storage.conf").string(),
                              "DOCKER_HOST=unix://" + (t_ / "docker.sock").string()});
    Status st =
        HostAccess::Make(root_, job_, {(t_ / "cfg/datasets.json").string()}, settings, env, &a);
    EXPECT_TRUE(st.ok()) << st.message();
    return a;
  }
  static EnvLookup LookupOf(std::vector<std::string> env) {
    return [env](const std::string& name) -> std::optional<std::string> {
      for (const auto& e : env)
        if (e.rfind(name + "=", 0) == 0) return e.substr(name.size() + 1);
      return std::nullopt;
    };
  }
  // The reason `path` (resolved first, as the mounts do) is refused; "" when allowed.
  std::string Refused(const HostAccess& a, const fs::path& path, bool rw = false) {
    std::string resolved;
    Status st = ResolveHostPath(path.string(), &resolved);
    if (!st.ok()) resolved = path.string();
    st = a.Check(resolved, rw);
    EXPECT_TRUE(st.ok() || st.IsInvalid()) << st.message();
    return st.ok() ? "" : st.message();
  }

  fs::path t_, root_, job_, other_, home_;
};

TEST_F(HostAccessTest, ResolvesLinksAndDotDotBeforeTheCheck) {
  fs::create_symlink("/etc", t_ / "etc-link");
  fs::create_symlink("../../../../etc/passwd", t_ / "data/in/pw");
  std::string r;
  ASSERT_TRUE(ResolveHostPath((t_ / "etc-link").string(), &r).ok());
  EXPECT_EQ(r, "/etc");
  HostAccess a = Make();
  EXPECT_NE(Refused(a, t_ / "etc-link").find("/etc"), std::string::npos);
  EXPECT_NE(Refused(a, t_ / "data/in/pw").find("/etc"), std::string::npos);
  EXPECT_NE(Refused(a, t_ / "data/in/../../../../../proc").find("/proc"), std::string::npos);
  EXPECT_TRUE(ResolveHostPath((t_ / "nope").string(), &r).IsNotFound());
  EXPECT_EQ(Refused(a, t_ / "data/in"), "");
  EXPECT_EQ(Refused(a, t_ / "data/in", true), "");
}

TEST_F(HostAccessTest, MergedUsrAndRunAliases) {
  EXPECT_EQ(WithoutAliases("/bin/sh"), "/usr/bin/sh");
  EXPECT_EQ(WithoutAliases("/sbin"), "/usr/sbin");
  EXPECT_EQ(WithoutAliases("/lib64/ld.so"), "/usr/lib64/ld.so");
  EXPECT_EQ(WithoutAliases("/var/run/docker.sock"), "/run/docker.sock");
  EXPECT_EQ(WithoutAliases("/var/lock"), "/run/lock");
  EXPECT_EQ(WithoutAliases("/binary"), "/binary");
  EXPECT_EQ(WithoutAliases("/usr/bin"), "/usr/bin");
  HostAccess a = Make();
  // /bin is /usr/bin (merged or not): under the blacklisted /usr.
  EXPECT_NE(Refused(a, "/bin", true).find("blacklisted /usr"), std::string::npos);
  EXPECT_NE(Refused(a, "/sbin").find("blacklisted /usr"), std::string::npos);
  // /var/run is /run: never, whatever the blacklist says.
  ContainerSettings open;
  open.mount_blacklist.clear();
  HostAccess b = Make(open);
  EXPECT_NE(Refused(b, "/var/run").find("it is /run ("), std::string::npos)
      << Refused(b, "/var/run");
  EXPECT_NE(Refused(b, "/var/run/docker.sock").find("/run"), std::string::npos);
  // Blacklist entries are resolved the same way: "/lib" covers /usr/lib.
  ContainerSettings lib;
  lib.mount_blacklist = {"/lib"};
  HostAccess c = Make(lib);
  EXPECT_NE(Refused(c, "/usr/lib").find("blacklisted /usr/lib"), std::string::npos);
  EXPECT_EQ(Refused(c, "/usr/share"), "");
}

TEST_F(HostAccessTest, SensitivePathsWhateverTheBlacklist) {
  ContainerSettings open;
  open.mount_blacklist.clear();
  HostAccess a = Make(open);
  for (const char* p :
       {"/", "/proc", "/proc/1/root", "/sys", "/sys/fs/cgroup", "/dev", "/dev/sda", "/run", "/boot",
        "/etc", "/etc/shadow", "/var/lib/docker", "/var/lib/containers/storage"})
    EXPECT_NE(Refused(a, p), "") << p;
  // Ancestors of what is refused, of the work root and of the home.
  for (const fs::path& p :
       {fs::path("/var"), fs::path("/var/lib"), t_, t_ / "home", fs::path("/tmp")})
    EXPECT_NE(Refused(a, p), "") << p;
  EXPECT_NE(Refused(a, t_).find("holds"), std::string::npos) << Refused(a, t_);
  EXPECT_NE(Refused(a, root_).find("is the work root"), std::string::npos) << Refused(a, root_);
  // The engine's storage and socket.
  EXPECT_NE(Refused(a, t_ / "graph"), "");
  EXPECT_NE(Refused(a, t_ / "docker.sock").find("engine"), std::string::npos);
  ContainerSettings args = open;
  args.global_args = {"--root=" + (t_ / "storage").string(), "--runroot", (t_ / "rr").string()};
  HostAccess b = Make(args);
  EXPECT_NE(Refused(b, t_ / "storage").find("engine"), std::string::npos);
  EXPECT_NE(Refused(b, t_ / "rr/x").find("engine"), std::string::npos);
  EXPECT_EQ(Refused(a, "/opt"), "");
  EXPECT_EQ(Refused(a, "/usr/share", true), "");  // no blacklist: the worker's choice
}

TEST_F(HostAccessTest, TheHomeReadOnlyItsCredentialsNever) {
  HostAccess a = Make();
  EXPECT_NE(Refused(a, home_).find("holds " + (home_ / ".ssh").string()), std::string::npos)
      << Refused(a, home_);
  EXPECT_NE(Refused(a, home_ / ".ssh").find("credentials"), std::string::npos);
  EXPECT_NE(Refused(a, home_ / ".ssh/id_rsa"), "");
  EXPECT_NE(Refused(a, home_ / ".config/containers"), "");
  EXPECT_NE(Refused(a, home_ / ".config").find("holds"), std::string::npos);
  // What HySDS job-specs map: read-only only.
  for (const fs::path& p : {home_ / ".netrc", home_ / ".aws", home_ / "verdi/etc/settings.yaml"}) {
    EXPECT_EQ(Refused(a, p), "") << p;
    EXPECT_NE(Refused(a, p, true).find("may only read"), std::string::npos) << p;
  }
  // A link in the home to a credential dir is what it points to.
  fs::create_symlink(home_ / ".ssh", t_ / "data/keys");
  EXPECT_NE(Refused(a, t_ / "data/keys"), "");
}

TEST_F(HostAccessTest, InsideTheWorkRootOnlyTheJobsOwnDir) {
  HostAccess a = Make();
  EXPECT_EQ(Refused(a, job_, true), "");
  fs::create_directories(job_ / "out");
  EXPECT_EQ(Refused(a, job_ / "out", true), "");
  for (const fs::path& p : {other_, root_ / "tasks", root_ / "workers", root_ / "jobs",
                            root_ / "jobs/2024", other_.parent_path()}) {
    EXPECT_NE(Refused(a, p).find("outside this job's dir"), std::string::npos) << p;
    EXPECT_NE(Refused(a, p).find("CONTAINER_MOUNT_LAYOUT=hysds"), std::string::npos) << p;
  }
  // A link in the job's dir to another job's dir is that dir.
  fs::create_symlink(other_, job_ / "peer");
  EXPECT_NE(Refused(a, job_ / "peer"), "");
  EXPECT_EQ(Refused(a, root_ / "cache/a"), "");
  EXPECT_NE(Refused(a, root_ / "cache/a", true).find("CACHE_READ_ONLY"), std::string::npos);

  ContainerSettings hysds;
  hysds.mount_layout = MountLayout::kHysds;
  hysds.cache_read_only = false;
  HostAccess b = Make(hysds);
  EXPECT_EQ(Refused(b, other_, true), "");
  EXPECT_EQ(Refused(b, root_ / "workers", true), "");
  EXPECT_EQ(Refused(b, root_ / "cache/a", true), "");
  EXPECT_NE(Refused(b, root_), "");
}

TEST_F(HostAccessTest, ConfigFilesAndTheExecutableReadOnly) {
  HostAccess a = Make();
  EXPECT_EQ(Refused(a, t_ / "cfg/datasets.json"), "");
  EXPECT_NE(Refused(a, t_ / "cfg/datasets.json", true).find("config file"), std::string::npos);
  EXPECT_NE(Refused(a, t_ / "cfg", true).find("holds a config file"), std::string::npos);
  EXPECT_EQ(Refused(a, t_ / "cfg"), "");
  std::string exe;
  ASSERT_TRUE(ResolveHostPath("/proc/self/exe", &exe).ok());
  ContainerSettings open;
  open.mount_blacklist.clear();
  HostAccess b = Make(open);
  EXPECT_NE(Refused(b, fs::path(exe).parent_path(), true).find("executable"), std::string::npos);
}

TEST_F(HostAccessTest, BlacklistEntriesAreResolved) {
  fs::create_symlink(t_ / "data", t_ / "alias");
  ContainerSettings s;
  s.mount_blacklist = {(t_ / "alias").string()};
  HostAccess a = Make(s);
  std::string why = Refused(a, t_ / "data/in");
  EXPECT_NE(why.find("WORKER_MOUNT_BLACKLIST"), std::string::npos) << why;
  EXPECT_NE(why.find((t_ / "data").string()), std::string::npos) << why;
}

TEST_F(HostAccessTest, AnotherNameOfWhatARuleNamesAndSpecialFiles) {
  // A hard link to the worker's datasets.json: the same file, so read-only.
  fs::create_hard_link(t_ / "cfg/datasets.json", t_ / "data/ds.json");
  HostAccess a = Make();
  EXPECT_EQ(Refused(a, t_ / "data/ds.json"), "");
  std::string why = Refused(a, t_ / "data/ds.json", true);
  EXPECT_NE(why.find((t_ / "data/ds.json").string() + " is " + (t_ / "cfg/datasets.json").string() +
                     " under another name"),
            std::string::npos)
      << why;
  // Sockets, devices and FIFOs are never reached.
  ASSERT_EQ(mkfifo((t_ / "data/fifo").c_str(), 0600), 0);
  EXPECT_NE(Refused(a, t_ / "data/fifo").find("a socket, a device or a FIFO"), std::string::npos);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::string sock = (t_ / "data/engine.sock").string();
  ASSERT_LT(sock.size(), sizeof addr.sun_path);
  memcpy(addr.sun_path, sock.c_str(), sock.size() + 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_NE(Refused(a, sock).find("a socket"), std::string::npos);
  close(fd);
}

TEST(IsPathUnderTest, ComponentWise) {
  EXPECT_TRUE(IsPathUnder("/etc/x", "/etc"));
  EXPECT_TRUE(IsPathUnder("/etc", "/etc"));
  EXPECT_FALSE(IsPathUnder("/etcetera", "/etc"));
  EXPECT_TRUE(IsPathUnder("/anything", "/"));
}

}  // namespace
}  // namespace verdi
