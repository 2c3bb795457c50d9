// Trees a job made: removed and given back to their owner whatever modes,
// depth, links or flags the job left, without following a link out.
#include "base/dir_tree.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

namespace verdi {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kNobody = 65534;

mode_t Mode(const fs::path& p) {
  struct stat st;
  return lstat(p.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// Runs `body` in a child process as nobody (as a worker that is not root
// runs): the return value is the child's exit code.
int AsNobody(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0) _exit(100);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

class DirTreeTest : public testing::Test {
 protected:
  DirTreeTest() {
    dir_ = fs::path(testing::TempDir()) / ("dir-tree-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    chmod(dir_.c_str(), 01777);  // nobody makes its own trees in it
  }
  ~DirTreeTest() override {
    RemoveTree(dir_);
    fs::remove_all(dir_);
  }
  fs::path dir_;
};

// What a hostile job leaves, as its user: its top dir, a subdir and files
// with no access at all, a read-only subdir, and a chain of directories
// deeper than any path can name, each without access.
int MakeHostileTree(const fs::path& tree, int depth) {
  if (mkdir(tree.c_str(), 0755) != 0) return 1;
  fs::create_directories(tree / "sub/deeper");
  Write(tree / "_stdout.txt", "out");
  Write(tree / "sub/deeper/f", "f");
  fs::create_directories(tree / "ro");
  Write(tree / "ro/f", "f");
  int fd = open(tree.c_str(), O_RDONLY | O_DIRECTORY);
  for (int i = 0; i < depth; ++i) {
    if (mkdirat(fd, "d", 0700) != 0) return 2;
    int next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
    if (next < 0) return 3;
    if (i > 0) fchmod(fd, 0);
    close(fd);
    fd = next;
  }
  fchmod(fd, 0);
  close(fd);
  if (chmod((tree / "_stdout.txt").c_str(), 0) != 0) return 4;
  if (chmod((tree / "sub/deeper/f").c_str(), 0) != 0) return 5;
  if (chmod((tree / "sub/deeper").c_str(), 0) != 0) return 6;
  if (chmod((tree / "ro").c_str(), 0555) != 0) return 7;
  if (chmod((tree / "sub").c_str(), 0) != 0) return 8;
  if (chmod(tree.c_str(), 0) != 0) return 9;
  return 0;
}

TEST_F(DirTreeTest, AJobsUnreadableDeepTreeIsRemovedByItsOwner) {
  fs::path tree = dir_ / "tree";
  int code = AsNobody([&] {
    if (int made = MakeHostileTree(tree, 3000); made != 0) return made;
    std::error_code ec;
    fs::remove_all(tree, ec);  // what a plain remove_all does: fails
    if (!ec) return 20;
    Status st = RemoveTree(tree);
    if (!st.ok()) {
      fprintf(stderr, "%s\n", st.message().c_str());
      return 21;
    }
    return fs::exists(fs::symlink_status(tree)) ? 22 : 0;
  });
  EXPECT_EQ(code, 0);
}

TEST_F(DirTreeTest, TheOwnersAccessIsGivenBackAndOtherBitsKept) {
  fs::path tree = dir_ / "tree";
  int code = AsNobody([&] {
    umask(022);
    if (int made = MakeHostileTree(tree, 20); made != 0) return made;
    Write(dir_ / "outside", "host");
    chmod((dir_ / "outside").c_str(), 0400);
    if (chmod(tree.c_str(), 0700) != 0) return 31;
    fs::create_symlink(dir_ / "outside", tree / "link");
    // A read-only file linked in from elsewhere (the input cache) stays so.
    Write(dir_ / "cached", "input");
    chmod((dir_ / "cached").c_str(), 0444);
    if (link((dir_ / "cached").c_str(), (tree / "input").c_str()) != 0) return 30;
    chmod(tree.c_str(), 0);
    Status st = RestoreOwnerAccess(tree);
    if (!st.ok()) {
      fprintf(stderr, "%s\n", st.message().c_str());
      return 32;
    }
    if (Mode(tree) != 0700 || Mode(tree / "sub") != 0700 || Mode(tree / "sub/deeper") != 0700)
      return 33;
    if (Mode(tree / "_stdout.txt") != 0600 || Mode(tree / "sub/deeper/f") != 0600) return 34;
    if (Mode(tree / "ro") != 0755 || Mode(tree / "ro/f") != 0644) return 35;
    if (Mode(dir_ / "outside") != 0400) return 36;  // the link was not followed
    if (Mode(dir_ / "cached") != 0444) return 39;
    fs::path deep = tree;
    for (int i = 0; i < 20; ++i) deep /= "d";
    if (Mode(deep) != 0700) return 37;
    std::ifstream in(tree / "_stdout.txt");
    std::string text;
    in >> text;
    return text == "out" ? 0 : 38;
  });
  EXPECT_EQ(code, 0);
}

TEST_F(DirTreeTest, RemoveTreeNeverFollowsLinks) {
  fs::create_directories(dir_ / "outside");
  Write(dir_ / "outside/keep.txt", "keep");
  fs::permissions(dir_ / "outside", fs::perms(0555));
  fs::create_directories(dir_ / "tree/sub");
  Write(dir_ / "tree/sub/f", "f");
  fs::create_directory_symlink(dir_ / "outside", dir_ / "tree/sub/link");
  fs::create_symlink(dir_ / "outside/keep.txt", dir_ / "tree/file-link");
  ASSERT_EQ(mkfifo((dir_ / "tree/fifo").c_str(), 0600), 0);
  fs::permissions(dir_ / "tree/sub", fs::perms(0555));
  fs::permissions(dir_ / "tree", fs::perms(0555));
  ASSERT_TRUE(RemoveTree(dir_ / "tree").ok());
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir_ / "tree")));
  std::ifstream in(dir_ / "outside/keep.txt");
  std::string text;
  in >> text;
  EXPECT_EQ(text, "keep");
  EXPECT_EQ(Mode(dir_ / "outside"), 0555u);
  EXPECT_TRUE(RemoveTree(dir_ / "tree").ok());  // gone already: no error
  // A link given as the path is removed itself, never what it points to.
  fs::create_directory_symlink(dir_ / "outside", dir_ / "link");
  ASSERT_TRUE(RemoveTree(dir_ / "link").ok());
  EXPECT_TRUE(fs::exists(dir_ / "outside/keep.txt"));
  EXPECT_FALSE(RestoreOwnerAccess(dir_ / "tree-link-missing").ok());
}

TEST_F(DirTreeTest, ImmutableAndAppendOnlyFilesOfARootJobAreRemoved) {
  ASSERT_EQ(geteuid(), 0u) << "the tests run as root (only root can set these flags)";
  fs::create_directories(dir_ / "tree/sub");
  Write(dir_ / "tree/sub/immutable", "i");
  Write(dir_ / "tree/appendonly", "a");
  auto set_flag = [](const fs::path& p, int flag) {
    int fd = open(p.c_str(), O_RDONLY | O_NONBLOCK);
    int flags = 0;
    bool ok = fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
              (flags |= flag, ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0);
    if (fd >= 0) close(fd);
    return ok;
  };
  ASSERT_TRUE(set_flag(dir_ / "tree/sub/immutable", FS_IMMUTABLE_FL));
  ASSERT_TRUE(set_flag(dir_ / "tree/appendonly", FS_APPEND_FL));
  ASSERT_TRUE(set_flag(dir_ / "tree/sub", FS_IMMUTABLE_FL));
  ASSERT_NE(unlink((dir_ / "tree/appendonly").c_str()), 0);  // the flags hold
  Status st = RemoveTree(dir_ / "tree");
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(fs::exists(dir_ / "tree"));
}

}  // namespace
}  // namespace verdi
