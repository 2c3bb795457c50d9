#include "localize/local_copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <utility>
#include <vector>

namespace verdi::localize {
namespace fs = std::filesystem;
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string FdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// The copy, or the check only when `dest` is empty.
class Walk {
 public:
  Walk(const Url& url, const LocalSourceCheck& check) : url_(url), check_(check) {}
  uint64_t bytes() const { return bytes_; }

  // `name` under the directory `dirfd` (the top: AT_FDCWD and the URL's path).
  Status Do(int dirfd, const std::string& name, const fs::path& dest) {
    const bool top = stack_.empty();
    Fd fd(openat(dirfd, name.c_str(), O_PATH | O_CLOEXEC));  // links followed
    if (fd.get() < 0) {
      if (top && (errno == ENOENT || errno == ENOTDIR))
        return Status::NotFound(url_.Redacted() + ": file not found");
      return Status::IOError(url_.Redacted() + ": opening " + name, errno);
    }
    struct stat st;
    if (fstat(fd.get(), &st) != 0) return Status::IOError(url_.Redacted() + ": " + name, errno);
    char buf[PATH_MAX];
    ssize_t n = readlink(FdPath(fd.get()).c_str(), buf, sizeof buf - 1);
    if (n < 0) return Status::IOError(url_.Redacted() + ": reading the path of " + name, errno);
    std::string real(buf, static_cast<size_t>(n));
    if (check_) {
      Status ok = check_(real);
      if (!ok.ok())
        return Status::Invalid(url_.Redacted() + ": refusing " + real + ": " + ok.message());
    }
    if (S_ISREG(st.st_mode))
      return dest.empty() ? Status::OK() : CopyFile(fd.get(), st, real, dest);
    if (!S_ISDIR(st.st_mode))
      return Status::Invalid(url_.Redacted() + ": " + real +
                             " is neither a regular file nor a directory");
    for (const auto& [dev, ino] : stack_)
      if (dev == st.st_dev && ino == st.st_ino)
        return Status::Invalid(url_.Redacted() + ": " + real + ": a link loop");
    if (stack_.size() >= 256) return Status::Invalid(url_.Redacted() + ": " + real + ": too deep");
    if (!dest.empty() && mkdir(dest.c_str(), (st.st_mode & 0777) | 0700) != 0)
      return Status::IOError("creating " + dest.string(), errno);
    std::vector<std::string> names;
    VERDI_RETURN_IF_ERROR(List(fd.get(), real, &names));
    stack_.emplace_back(st.st_dev, st.st_ino);
    for (const std::string& entry : names) {
      Status st2 = Do(fd.get(), entry, dest.empty() ? fs::path() : dest / entry);
      if (!st2.ok()) return st2;
    }
    stack_.pop_back();
    return Status::OK();
  }

 private:
  Status List(int fd, const std::string& real, std::vector<std::string>* names) {
    int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return Status::IOError(url_.Redacted() + ": opening " + real, errno);
    DIR* d = fdopendir(dfd);
    if (d == nullptr) {
      int err = errno;
      close(dfd);
      return Status::IOError(url_.Redacted() + ": reading " + real, err);
    }
    errno = 0;
    while (struct dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names->push_back(n);
    }
    int err = errno;
    closedir(d);
    if (err != 0) return Status::IOError(url_.Redacted() + ": reading " + real, err);
    std::sort(names->begin(), names->end());
    return Status::OK();
  }

  // Read through the very file that was opened and checked.
  Status CopyFile(int fd, const struct stat& st, const std::string& real, const fs::path& dest) {
    Fd in(open(FdPath(fd).c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (in.get() < 0) return Status::IOError(url_.Redacted() + ": opening " + real, errno);
    Fd out(open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                st.st_mode & 0777));
    if (out.get() < 0) return Status::IOError("creating " + dest.string(), errno);
    std::vector<char> buf(1 << 20);
    for (;;) {
      ssize_t got = read(in.get(), buf.data(), buf.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return Status::IOError(url_.Redacted() + ": reading " + real, errno);
      if (got == 0) break;
      for (ssize_t done = 0; done < got;) {
        ssize_t put = write(out.get(), buf.data() + done, static_cast<size_t>(got - done));
        if (put < 0 && errno == EINTR) continue;
        if (put < 0) return Status::IOError("writing " + dest.string(), errno);
        done += put;
      }
      bytes_ += static_cast<uint64_t>(got);
    }
    if (close(out.release()) != 0) return Status::IOError("writing " + dest.string(), errno);
    return Status::OK();
  }

  const Url& url_;
  const LocalSourceCheck& check_;
  std::vector<std::pair<dev_t, ino_t>> stack_;  // the directories being walked
  uint64_t bytes_ = 0;
};

}  // namespace

Status CopyLocalSource(const Url& url, const fs::path& dest, const LocalSourceCheck& check,
                       uint64_t* bytes) {
  Walk walk(url, check);
  Status st = walk.Do(AT_FDCWD, url.path, dest);
  *bytes = walk.bytes();
  return st;
}

Status CheckLocalSource(const Url& url, const LocalSourceCheck& check) {
  Walk walk(url, check);
  return walk.Do(AT_FDCWD, url.path, fs::path());
}

}  // namespace verdi::localize
