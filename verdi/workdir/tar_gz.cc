#include "verdi/workdir/tar_gz.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace verdi {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBlock = 512;

// Writes `value` as a NUL-terminated octal number in `width` bytes; false
// when it does not fit.
bool Octal(char* field, size_t width, uint64_t value) {
  std::string digits = fmt::format("{:o}", value);
  if (digits.size() > width - 1) return false;
  std::string padded = std::string(width - 1 - digits.size(), '0') + digits;
  std::memcpy(field, padded.data(), width - 1);
  field[width - 1] = '\0';
  return true;
}

// One pax record: "<length> <key>=<value>\n", the length counting itself.
std::string PaxRecord(const std::string& key, const std::string& value) {
  size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  size_t length = body + 1;
  while (std::to_string(length).size() + body != length) ++length;
  return fmt::format("{} {}={}\n", length, key, value);
}

class TarWriter {
 public:
  ~TarWriter() {
    if (gz_ != nullptr) gzclose(gz_);
  }

  Status Open(const fs::path& out) {
    path_ = out.string();
    gz_ = gzopen(path_.c_str(), "wb6");
    if (gz_ == nullptr) return Status::IOError("creating " + path_, errno != 0 ? errno : ENOMEM);
    return Status::OK();
  }

  // One entry: its header (with a pax header first when needed), then for a
  // regular file its content from `source`.
  Status Add(const std::string& name, const struct stat& st, const std::string& link_target,
             const fs::path* source) {
    char h[kBlock] = {};
    std::string pax;
    if (name.size() > 100) pax += PaxRecord("path", name);
    if (link_target.size() > 100) pax += PaxRecord("linkpath", link_target);
    uint64_t size = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
    if (!Octal(h + 124, 12, size)) pax += PaxRecord("size", std::to_string(size));
    if (!Octal(h + 108, 8, st.st_uid)) pax += PaxRecord("uid", std::to_string(st.st_uid));
    if (!Octal(h + 116, 8, st.st_gid)) pax += PaxRecord("gid", std::to_string(st.st_gid));
    if (!pax.empty()) {
      char x[kBlock] = {};
      std::string xname = "PaxHeaders/" + name.substr(0, 80);
      Fill(x, xname, 0644, 0, 0, pax.size(), st.st_mtime, 'x', "");
      VERDI_RETURN_IF_ERROR(Write(x, kBlock));
      VERDI_RETURN_IF_ERROR(Write(pax.data(), pax.size()));
      VERDI_RETURN_IF_ERROR(Pad(pax.size()));
    }
    char type = S_ISDIR(st.st_mode) ? '5' : S_ISLNK(st.st_mode) ? '2' : '0';
    Fill(h, name.substr(0, 100), st.st_mode & 07777, st.st_uid, st.st_gid, size, st.st_mtime, type,
         link_target.substr(0, 100));
    VERDI_RETURN_IF_ERROR(Write(h, kBlock));
    if (source == nullptr || size == 0) return Status::OK();
    return CopyFile(*source, size);
  }

  Status Close() {
    char zeros[2 * kBlock] = {};
    VERDI_RETURN_IF_ERROR(Write(zeros, sizeof zeros));
    int rc = gzclose(gz_);
    gz_ = nullptr;
    if (rc != Z_OK) return Status::IOError("writing " + path_, rc == Z_ERRNO ? errno : EIO);
    return Status::OK();
  }

 private:
  // The ustar header; fields that do not fit were put in the pax header and
  // are written as 0 here.
  static void Fill(char* h, const std::string& name, unsigned mode, uint64_t uid, uint64_t gid,
                   uint64_t size, int64_t mtime, char type, const std::string& link) {
    std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
    Octal(h + 100, 8, mode);
    if (!Octal(h + 108, 8, uid)) Octal(h + 108, 8, 0);
    if (!Octal(h + 116, 8, gid)) Octal(h + 116, 8, 0);
    if (!Octal(h + 124, 12, size)) Octal(h + 124, 12, 0);
    Octal(h + 136, 12, mtime > 0 ? static_cast<uint64_t>(mtime) : 0);
    h[156] = type;
    std::memcpy(h + 157, link.data(), std::min<size_t>(link.size(), 100));
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < kBlock; ++i) sum += static_cast<unsigned char>(h[i]);
    std::string chk = fmt::format("{:06o}", sum);
    std::memcpy(h + 148, chk.data(), 6);
    h[154] = '\0';
    h[155] = ' ';
  }

  Status CopyFile(const fs::path& source, uint64_t size) {
    int fd = open(source.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return Status::IOError("reading " + source.string(), errno);
    std::vector<char> buf(1 << 16);
    uint64_t left = size;
    Status st;
    while (left > 0) {
      ssize_t n = read(fd, buf.data(), std::min<uint64_t>(buf.size(), left));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        st = Status::IOError("reading " + source.string(), errno);
        break;
      }
      if (n == 0) {  // it shrank: keep the archive consistent with the header
        std::fill(buf.begin(), buf.end(), 0);
        n = static_cast<ssize_t>(std::min<uint64_t>(buf.size(), left));
      }
      st = Write(buf.data(), static_cast<size_t>(n));
      if (!st.ok()) break;
      left -= static_cast<uint64_t>(n);
    }
    close(fd);
    VERDI_RETURN_IF_ERROR(st);
    return Pad(size);
  }

  Status Pad(uint64_t size) {
    static const char zeros[kBlock] = {};
    size_t rest = size % kBlock;
    return rest == 0 ? Status::OK() : Write(zeros, kBlock - rest);
  }

  Status Write(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      unsigned chunk = static_cast<unsigned>(std::min<size_t>(n, 1 << 30));
      int written = gzwrite(gz_, p, chunk);
      if (written <= 0) {
        int err = 0;
        const char* msg = gzerror(gz_, &err);
        if (err == Z_ERRNO) return Status::IOError("writing " + path_, errno);
        return Status::Failed(fmt::format("writing {}: {}", path_, msg));
      }
      p += written;
      n -= static_cast<size_t>(written);
    }
    return Status::OK();
  }

  std::string path_;
  gzFile gz_ = nullptr;
};

// Archives `path` as `name` (and, for a directory, its entries in name
// order, so archives of the same tree are the same).
Status AddTree(TarWriter* tar, const fs::path& path, const std::string& name, int* skipped) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::OK();  // removed meanwhile
    return Status::IOError("reading " + path.string(), errno);
  }
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    fs::path target = fs::read_symlink(path, ec);
    if (ec) return Status::IOError("reading the link " + path.string(), ec.value());
    return tar->Add(name, st, target.string(), nullptr);
  }
  if (S_ISREG(st.st_mode)) return tar->Add(name, st, "", &path);
  if (!S_ISDIR(st.st_mode)) {
    ++*skipped;
    return Status::OK();
  }
  VERDI_RETURN_IF_ERROR(tar->Add(name + "/", st, "", nullptr));
  std::vector<std::string> children;
  std::error_code ec;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
    children.push_back(it->path().filename().string());
  if (ec) return Status::IOError("listing " + path.string(), ec.value());
  std::sort(children.begin(), children.end());
  for (const auto& child : children)
    VERDI_RETURN_IF_ERROR(AddTree(tar, path / child, name + "/" + child, skipped));
  return Status::OK();
}

}  // namespace

Status WriteTarGz(const fs::path& dir, const std::string& arcname, const fs::path& out,
                  int* skipped) {
  int ignored = 0;
  if (skipped == nullptr) skipped = &ignored;
  *skipped = 0;
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) return Status::IOError("archiving " + dir.string(), errno);
  if (!S_ISDIR(st.st_mode))
    return Status::Invalid("archiving " + dir.string() + ": not a directory");
  TarWriter tar;
  VERDI_RETURN_IF_ERROR(tar.Open(out));
  Status s = AddTree(&tar, dir, arcname, skipped);
  Status closed = tar.Close();
  if (!s.ok() || !closed.ok()) {
    std::error_code ec;
    fs::remove(out, ec);
    return s.ok() ? closed : s;
  }
  return Status::OK();
}

}  // namespace verdi
