#include "verdi/container/image_cache.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "base/files.h"
#include "base/redact.h"
#include "base/timestamp.h"
#include "localize/cache.h"
#include "localize/checksum.h"
#include "localize/url.h"

namespace verdi {
namespace fs = std::filesystem;
namespace {

constexpr const char* kMarker = ".localized";
constexpr const char* kDigest = ".sha256";
constexpr const char* kTmpInfix = ".tmp.";

fs::path LockPath(const fs::path& entry) { return entry.string() + ".lock"; }

// Waits for the exclusive flock on `path` (the scrubber and the eviction
// below only try it: they skip an entry while it is held).
Status Lock(const fs::path& path, int* fd) {
  *fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (*fd < 0) return Status::IOError("opening " + path.string(), errno);
  while (flock(*fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    close(*fd);
    *fd = -1;
    return Status::IOError("locking " + path.string(), err);
  }
  return Status::OK();
}

// Removes an entry so that it never looks complete half-way: marker first.
void RemoveEntry(const fs::path& entry) {
  std::error_code ec;
  fs::remove(entry / kMarker, ec);
  fs::remove_all(entry, ec);
}

// Downloads `url` (and its sidecar when no digest is given) into `tmp`,
// verifies it and writes the digest and the marker.
Status Fill(const fs::path& tmp, const std::string& url, const std::string& basename,
            const std::optional<std::string>& sha256, const localize::FetchOptions& opts) {
  std::string shown = RedactUrls(url);
  std::vector<localize::FetchResult> results;
  VERDI_RETURN_IF_ERROR(localize::FetchAll({{url, tmp / basename}}, opts, &results));
  std::optional<std::string> want;
  std::string from;
  if (sha256) {
    want = NormalizeSha256(*sha256);
    from = "container_image_sha256";
  } else {
    fs::path sidecar = tmp / ".sidecar";
    Status st = localize::FetchAll({{url + ".sha256", sidecar}}, opts, &results);
    if (st.ok()) {
      std::string text;
      VERDI_RETURN_IF_ERROR(ReadFileToString(sidecar.string(), &text));
      want = NormalizeSha256(text);
      from = shown + ".sha256";
      if (want->empty()) return Status::Failed(from + " holds no digest");
      std::error_code ec;
      fs::remove(sidecar, ec);
    } else if (!st.IsNotFound()) {  // a missing sidecar is no sidecar
      return st;
    }
  }
  std::string got;
  VERDI_RETURN_IF_ERROR(localize::FileDigest(tmp / basename, "sha256", &got));
  if (want && *want != got)
    return Status::Failed(
        fmt::format("{}: sha256 mismatch: expected {} ({}), got {}", shown, *want, from, got));
  VERDI_RETURN_IF_ERROR(WriteFileAtomic((tmp / kDigest).string(), got + "\n"));
  return WriteFileAtomic((tmp / kMarker).string(), IsoUtc(WallClock::now()) + "\n");
}

}  // namespace

std::string NormalizeSha256(const std::string& expected) {
  size_t start = expected.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  std::string word = expected.substr(start, expected.find_first_of(" \t\r\n", start) - start);
  if (word.rfind("sha256:", 0) == 0) word = word.substr(7);
  for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return word;
}

ImageTarball& ImageTarball::operator=(ImageTarball&& other) noexcept {
  if (this != &other) {
    Release();
    entry_ = std::move(other.entry_);
    file_ = std::move(other.file_);
    lock_fd_ = other.lock_fd_;
    downloaded_ = other.downloaded_;
    other.lock_fd_ = -1;
  }
  return *this;
}

void ImageTarball::Discard() {
  if (lock_fd_ >= 0) RemoveEntry(entry_);
}

void ImageTarball::Release() {
  if (lock_fd_ >= 0) close(lock_fd_);
  lock_fd_ = -1;
}

Status GetImageTarball(const fs::path& dir, const std::string& url,
                       const std::optional<std::string>& sha256, const localize::FetchOptions& opts,
                       ImageTarball* out) {
  out->Release();
  localize::Url parsed;
  VERDI_RETURN_IF_ERROR(localize::ParseUrl(url, &parsed));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("creating " + dir.string(), ec.value());
  ImageTarball t;
  t.entry_ = dir / localize::CacheEntryDir("", url).filename();
  std::string basename = parsed.Basename().empty() ? "image.tar" : parsed.Basename();
  t.file_ = t.entry_ / basename;
  VERDI_RETURN_IF_ERROR(Lock(LockPath(t.entry_), &t.lock_fd_));

  if (fs::exists(t.entry_ / kMarker, ec) && fs::exists(t.file_, ec)) {
    std::string stored;
    Status st = ReadFileToString((t.entry_ / kDigest).string(), &stored);
    // A job that expects another digest than the cached download's: the
    // image at that URL may have been rebuilt; download it again.
    if (st.ok() && (!sha256 || NormalizeSha256(*sha256) == NormalizeSha256(stored))) {
      fs::last_write_time(t.entry_ / kMarker, fs::file_time_type::clock::now(), ec);
      *out = std::move(t);
      return Status::OK();
    }
  }
  fs::path tmp = t.entry_.string() + kTmpInfix + std::to_string(getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return Status::IOError("creating " + tmp.string(), ec.value());
  Status st = Fill(tmp, url, basename, sha256, opts);
  if (st.ok()) {
    RemoveEntry(t.entry_);
    fs::rename(tmp, t.entry_, ec);
    if (ec) st = Status::IOError("renaming " + tmp.string(), ec.value());
  }
  fs::remove_all(tmp, ec);
  VERDI_RETURN_IF_ERROR(st);
  t.downloaded_ = true;
  *out = std::move(t);
  return Status::OK();
}

Status EvictImageTarballs(const fs::path& dir, uint64_t max_bytes, std::vector<fs::path>* removed) {
  struct Entry {
    fs::path dir;
    fs::file_time_type used;
    uint64_t bytes;
  };
  std::vector<Entry> complete;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::OK();
  std::vector<fs::path> leftovers;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code ec2;
    if (!it->is_directory(ec2) || it->is_symlink(ec2)) continue;
    fs::path p = it->path();
    fs::file_time_type used = fs::last_write_time(p / kMarker, ec2);
    if (ec2 || p.filename().string().find(kTmpInfix) != std::string::npos)
      leftovers.push_back(p);
    else
      complete.push_back({p, used, localize::TreeBytes(p)});
  }
  if (ec) return Status::IOError("listing " + dir.string(), ec.value());

  auto remove_unlocked = [&](const fs::path& entry, const fs::path& lock_of) {
    localize::CacheEntryLock lock(lock_of);
    if (!lock.held()) return;  // in use, or being filled
    RemoveEntry(entry);
    if (removed != nullptr) removed->push_back(entry);
  };
  for (const fs::path& p : leftovers) {
    std::string name = p.filename().string();
    remove_unlocked(p, dir / name.substr(0, name.find(kTmpInfix)));
  }
  std::sort(complete.begin(), complete.end(), [](const Entry& a, const Entry& b) {
    return a.used != b.used ? a.used < b.used : a.dir < b.dir;
  });
  uint64_t total = 0;
  for (const Entry& e : complete) total += e.bytes;
  for (const Entry& e : complete) {
    if (total <= max_bytes) break;
    localize::CacheEntryLock lock(e.dir);
    if (!lock.held()) continue;  // in use: never evicted
    RemoveEntry(e.dir);
    total -= e.bytes;
    if (removed != nullptr) removed->push_back(e.dir);
  }
  return Status::OK();
}

}  // namespace verdi
