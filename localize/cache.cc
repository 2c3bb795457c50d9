#include "localize/cache.h"

#include "base/timestamp.h"

#include <fmt/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <system_error>
#include <thread>

#include "localize/mark_datasets.h"
#include "localize/url.h"

namespace verdi::localize {
namespace fs = std::filesystem;

namespace {

std::string Md5Hex(const std::string& s) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), digest, &len, EVP_md5(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

// One cache entry used by this call.
struct Entry {
  fs::path dir, tmp;
  std::string basename;
  int lock_fd = -1;
  bool hit = false;
  int fetch_index = -1;  // into the FetchAll items, on a miss
};

// Sets the modes of the tree at `fd` (a directory) and below: `dirs` for
// directories, and, unless `files` is 0, `files` for regular files (their
// execute bits kept). Links are left alone, never followed. `fd` is closed.
Status SetModes(int fd, const std::string& path, mode_t dirs, mode_t files) {
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    int err = errno;
    close(fd);
    return Status::IOError("opening " + path, err);
  }
  // The directory writable while it is walked (a remove needs that).
  Status st;
  if (fchmod(fd, dirs | S_IWUSR | S_IXUSR | S_IRUSR) != 0)
    st = Status::IOError("chmod " + path, errno);
  while (st.ok()) {
    errno = 0;
    dirent* ent = readdir(d);
    if (ent == nullptr) {
      if (errno != 0) st = Status::IOError("listing " + path, errno);
      break;
    }
    std::string name = ent->d_name;
    if (name == "." || name == "..") continue;
    struct stat info;
    if (fstatat(fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      st = Status::IOError("stat " + path + "/" + name, errno);
      break;
    }
    if (S_ISDIR(info.st_mode)) {
      int sub = openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        st = Status::IOError("opening " + path + "/" + name, errno);
        break;
      }
      st = SetModes(sub, path + "/" + name, dirs, files);
    } else if (S_ISREG(info.st_mode) && files != 0) {
      int file = openat(fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (file < 0 || fchmod(file, files | (info.st_mode & 0111)) != 0)
        st = Status::IOError("chmod " + path + "/" + name, errno);
      if (file >= 0) close(file);
    }
  }
  if (st.ok() && fchmod(fd, dirs) != 0) st = Status::IOError("chmod " + path, errno);
  closedir(d);
  return st;
}

Status SetTreeModes(const fs::path& dir, mode_t dirs, mode_t files) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Status::IOError("opening " + dir.string(), errno);
  return SetModes(fd, dir.string(), dirs, files);
}

Status Finish(Entry* e) {
  std::error_code ec;
  // Input datasets marked as such now: the entry is read-only once complete.
  VERDI_RETURN_IF_ERROR(MarkLocalizedDatasets(e->tmp, nullptr));
  fs::path marker_tmp = e->tmp / ".localized.tmp";
  {
    std::ofstream out(marker_tmp);
    out << IsoUtc(WallClock::now()) << "\n";
    if (!out) return Status::IOError(marker_tmp.string(), errno);
  }
  fs::rename(marker_tmp, e->tmp / ".localized", ec);
  if (ec) return Status::IOError("filling the cache entry " + e->dir.string(), ec.value());
  // Read-only to every job that links to it (the owner's eviction makes it
  // writable again: RemoveTree).
  VERDI_RETURN_IF_ERROR(SetTreeModes(e->tmp, 0555, 0444).WithPrefix("filling the cache entry"));
  VERDI_RETURN_IF_ERROR(RemoveTree(e->dir));  // an incomplete one
  fs::rename(e->tmp, e->dir, ec);
  if (ec) return Status::IOError("filling the cache entry " + e->dir.string(), ec.value());
  return Status::OK();
}

// An item whose destination is another's, or below a cached item's link.
Status CheckOverlaps(const std::vector<LocalizeItem>& items) {
  auto below = [](const fs::path& p, const fs::path& dir) {
    auto d = dir.begin(), q = p.begin();
    for (; d != dir.end(); ++d, ++q)
      if (q == p.end() || *q != *d) return false;
    return q != p.end();
  };
  for (size_t j = 0; j < items.size(); ++j) {
    fs::path dj = items[j].dest.lexically_normal();
    for (size_t i = 0; i < items.size(); ++i) {
      if (i == j) continue;
      fs::path di = items[i].dest.lexically_normal();
      if (i < j && di == dj)
        return Status::Invalid(fmt::format(
            "localize_urls[{}]: lands at {}, where localize_urls[{}] lands too: refused", j,
            dj.string(), i));
      if (items[i].cache && below(dj, di))
        return Status::Invalid(fmt::format(
            "localize_urls[{}]: lands at {}, inside {}, which links to the input cache entry of "
            "localize_urls[{}]: refused (it would write into the cache)",
            j, dj.string(), di.string(), i));
    }
  }
  return Status::OK();
}

// flock(fd, how), waiting for other holders, but not past a cancel.
Status Lock(int fd, int how, const std::string& path, const FetchOptions& opts) {
  while (flock(fd, how | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) return Status::IOError("locking " + path, errno);
    if (opts.cancelled && opts.cancelled()) return Status::Failed("localizing cancelled");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::OK();
}

}  // namespace

CacheHolds::~CacheHolds() {
  for (int fd : fds_) close(fd);
}

CacheEntryLock::CacheEntryLock(const fs::path& entry_dir) {
  std::string lock = entry_dir.string() + ".lock";
  fd_ = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ >= 0 && flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    close(fd_);
    fd_ = -1;
  }
}

CacheEntryLock::~CacheEntryLock() {
  if (fd_ >= 0) close(fd_);
}

Status RemoveTree(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (!ec) return Status::OK();
  // Read-only directories: made writable by their owner, then removed.
  if (fs::is_directory(fs::symlink_status(path, ec)))
    VERDI_RETURN_IF_ERROR(SetTreeModes(path, 0700, 0).WithPrefix("removing " + path.string()));
  fs::remove_all(path, ec);
  if (ec) return Status::IOError("removing " + path.string(), ec.value());
  return Status::OK();
}

Status UnmarkCacheEntry(const fs::path& entry_dir) {
  int fd = open(entry_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Status::IOError("opening " + entry_dir.string(), errno);
  Status st;
  struct stat info;
  if (fstat(fd, &info) != 0 || fchmod(fd, (info.st_mode & 07777) | S_IWUSR | S_IXUSR) != 0)
    st = Status::IOError("chmod " + entry_dir.string(), errno);
  if (st.ok() && unlinkat(fd, ".localized", 0) != 0 && errno != ENOENT)
    st = Status::IOError("removing " + (entry_dir / ".localized").string(), errno);
  close(fd);
  return st;
}

fs::path CacheEntryDir(const fs::path& cache_root, const std::string& url) {
  std::string h = Md5Hex(url);
  return cache_root / h.substr(0, 1) / h.substr(1, 1) / h.substr(2, 1) / h.substr(3, 1) / h;
}

Status LocalizeAll(const std::vector<LocalizeItem>& items, const fs::path& cache_root,
                   const FetchOptions& opts, std::vector<FetchResult>* results, CacheHolds* holds) {
  results->assign(items.size(), FetchResult());
  VERDI_RETURN_IF_ERROR(CheckOverlaps(items));
  const auto call_start = std::chrono::system_clock::now();
  // Entries in a fixed order (by path): two jobs lock them in the same order.
  std::map<fs::path, Entry> entries;
  std::vector<FetchItem> fetch;
  std::vector<int> fetch_of_item(items.size(), -1);
  Status st;
  for (size_t i = 0; i < items.size() && st.ok(); ++i) {
    Url url;
    st = ParseUrl(items[i].url, &url);
    // A file:// source is checked even when its cache entry is complete.
    if (st.ok() && !url.IsNetwork() && opts.local_source_check)
      st = CheckLocalSource(url, opts.local_source_check);
    if (st.ok() && items[i].cache) {
      fs::path dir = CacheEntryDir(cache_root, items[i].url);
      Entry& e = entries[dir];
      e.dir = dir;
      e.basename = url.Basename();
    }
  }
  if (!st.ok()) return st;
  for (auto& [dir, e] : entries) {
    std::error_code ec;
    fs::create_directories(dir.parent_path(), ec);
    if (ec) {
      st = Status::IOError("creating " + dir.parent_path().string(), ec.value());
      break;
    }
    std::string lock = dir.string() + ".lock";
    e.lock_fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (e.lock_fd < 0) {
      st = Status::IOError(lock, errno);
      break;
    }
    // Shared to look: a complete entry stays shared-locked while this job
    // uses it (eviction takes the lock exclusively, without waiting).
    st = Lock(e.lock_fd, LOCK_SH, lock, opts);
    if (!st.ok()) break;
    e.hit = fs::exists(dir / ".localized", ec);
    if (!e.hit) {
      // Exclusive to fill (a conversion: another job may fill it meanwhile).
      st = Lock(e.lock_fd, LOCK_EX, lock, opts);
      if (!st.ok()) break;
      e.hit = fs::exists(dir / ".localized", ec);
    }
    if (!e.hit) {
      e.tmp = dir.string() + ".tmp." + std::to_string(getpid());
      st = RemoveTree(e.tmp);
      if (!st.ok()) break;
      fs::create_directory(e.tmp, ec);
      if (ec) {
        st = Status::IOError("creating " + e.tmp.string(), ec.value());
        break;
      }
    }
  }
  if (st.ok()) {
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].cache) {
        Entry& e = entries[CacheEntryDir(cache_root, items[i].url)];
        if (e.hit) continue;
        if (e.fetch_index < 0) {
          e.fetch_index = static_cast<int>(fetch.size());
          fetch.push_back({items[i].url, e.tmp / e.basename});
        }
        fetch_of_item[i] = e.fetch_index;
      } else {
        fetch_of_item[i] = static_cast<int>(fetch.size());
        fetch.push_back({items[i].url, items[i].dest});
      }
    }
    std::vector<FetchResult> fetched;
    st = FetchAll(fetch, opts, &fetched);
    for (size_t i = 0; i < items.size(); ++i) {
      if (fetch_of_item[i] >= 0) (*results)[i] = fetched[fetch_of_item[i]];
    }
  }
  for (auto& [dir, e] : entries) {
    if (st.ok() && !e.hit) st = Finish(&e);
    if (!e.tmp.empty()) {
      Status removed = RemoveTree(e.tmp);
      if (st.ok()) st = removed;
    }
  }
  // Symlinks into the job dir, still under the locks (no eviction meanwhile).
  for (size_t i = 0; i < items.size() && st.ok(); ++i) {
    if (!items[i].cache) continue;
    const Entry& e = entries[CacheEntryDir(cache_root, items[i].url)];
    fs::path target = e.dir / e.basename;
    std::error_code ec;
    if (!items[i].dest.parent_path().empty())
      fs::create_directories(items[i].dest.parent_path(), ec);
    if (!ec) fs::create_symlink(target, items[i].dest, ec);
    if (ec) {
      st = Status::IOError("linking " + items[i].dest.string() + " to the cache", ec.value());
      break;
    }
    FetchResult& r = (*results)[i];
    if (e.hit) {
      // A hit's time counts from the call: locks and checks included.
      r.time_start = call_start;
      r.time_end = std::chrono::system_clock::now();
      r.bytes = TreeBytes(target);
    }
  }
  for (auto& [dir, e] : entries) {
    if (e.lock_fd < 0) continue;
    // Kept shared while the job runs, when the caller holds them.
    if (st.ok() && holds != nullptr && flock(e.lock_fd, LOCK_SH) == 0) {
      holds->Add(e.lock_fd);
    } else {
      close(e.lock_fd);
    }
  }
  return st;
}

}  // namespace verdi::localize
