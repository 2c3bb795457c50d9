#include "localize/upload.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "base/redact.h"
#include "jobspec/url_escape.h"
#include "localize/object_list.h"
#include "localize/retry.h"
#include "localize/url.h"

namespace verdi::localize {
namespace fs = std::filesystem;

namespace {

Status Parse(const std::string& text, Url* url) {
  VERDI_RETURN_IF_ERROR(ParseUrl(text, url));
  if (url->scheme == Scheme::kFtp || url->scheme == Scheme::kSftp || url->IsAzure())
    return Status::Invalid("publishing to ftp://, sftp:// or azure:// is not supported: " +
                           RedactUrls(text));
  return Status::OK();
}

bool IsNetworkUrl(const std::string& text) {
  return text.find("://") != std::string::npos && text.rfind("file://", 0) != 0;
}

std::string EncodeSegment(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

size_t Collect(char* data, size_t size, size_t n, void* userp) {
  static_cast<std::string*>(userp)->append(data, size * n);
  return size * n;
}

std::string Describe(long code) {
  std::string what = code == 404   ? " not found"
                     : code == 403 ? " forbidden"
                     : code == 401 ? " unauthorized"
                     : code == 405 ? " method not allowed"
                     : code == 409 ? " conflict"
                                   : "";
  return fmt::format("HTTP {}{}", code, what);
}

// ---- file:// ---------------------------------------------------------------

// Copies what `fd` holds (from offset 0) into the new file `dest`.
Status CopyFd(int fd, const fs::path& dest) {
  int out = open(dest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (out < 0) return Status::IOError("creating " + dest.string(), errno);
  Status st;
  char buf[1 << 16];
  for (off_t at = 0; st.ok();) {
    ssize_t n = pread(fd, buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = Status::IOError("reading", errno);
      break;
    }
    if (n == 0) break;
    at += n;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(out, buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        st = Status::IOError("writing " + dest.string(), errno);
        break;
      }
      done += w;
    }
  }
  if (close(out) != 0 && st.ok()) st = Status::IOError("writing " + dest.string(), errno);
  return st;
}

Status PutFile(int src, const fs::path& dest, bool no_clobber, bool* existed) {
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) return Status::IOError("creating " + dest.parent_path().string(), ec.value());
  if (no_clobber && fs::exists(fs::symlink_status(dest, ec))) {
    *existed = true;
    return Status::OK();
  }
  // A hidden name beside the target, so the rename stays on one file system.
  fs::path part =
      dest.parent_path() / fmt::format(".{}.verdi-part-{}", dest.filename().string(), getpid());
  fs::remove(part, ec);
  if (Status st = CopyFd(src, part); !st.ok()) {
    fs::remove(part, ec);
    return st;
  }
  if (no_clobber) {
    // link() fails on an existing target: no window between check and write.
    int rc = ::link(part.c_str(), dest.c_str());
    int err = errno;
    fs::remove(part, ec);
    if (rc == 0) return Status::OK();
    if (err == EEXIST) {
      *existed = true;
      return Status::OK();
    }
    return Status::IOError("creating " + dest.string(), err);
  }
  fs::rename(part, dest, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(part, ignored);
    return Status::IOError("renaming " + part.string() + " to " + dest.string(), ec.value());
  }
  return Status::OK();
}

// The body of a PUT: an fd read with pread, so that a retry starts over.
struct Body {
  int fd;
  curl_off_t at = 0;
};

size_t ReadBody(char* buf, size_t size, size_t n, void* userp) {
  auto* body = static_cast<Body*>(userp);
  for (;;) {
    ssize_t got = pread(body->fd, buf, size * n, body->at);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return CURL_READFUNC_ABORT;
    body->at += got;
    return static_cast<size_t>(got);
  }
}

int SeekBody(void* userp, curl_off_t offset, int origin) {
  if (origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  static_cast<Body*>(userp)->at = offset;
  return CURL_SEEKFUNC_OK;
}

}  // namespace

std::string JoinUrl(const std::string& base, const std::string& relpath) {
  std::string out = base;
  while (!out.empty() && out.back() == '/') out.pop_back();
  bool network = IsNetworkUrl(base);
  bool file_url = base.rfind("file://", 0) == 0;
  std::stringstream parts(relpath);
  for (std::string seg; std::getline(parts, seg, '/');) {
    if (seg.empty()) continue;
    if (network) {
      seg = EncodeSegment(seg);
    } else if (file_url) {
      for (size_t pos = 0; (pos = seg.find('%', pos)) != std::string::npos; pos += 3)
        seg.replace(pos, 1, "%25");
    }
    out += "/" + seg;
  }
  return out;
}

Status Uploader::Http(const std::string& method, const std::string& url_text, int upload,
                      Response* resp) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  Url url;
  VERDI_RETURN_IF_ERROR(Parse(url_text, &url));
  const int tries = std::max(1, opts_.tries);
  double backoff = opts_.backoff_seconds;
  for (int attempt = 1;; ++attempt) {
    CURL* e = curl_easy_init();
    if (e == nullptr) return Status::Failed("curl_easy_init failed");
    TransferHeaders headers;
    Status st = ConfigureTransfer(e, url, opts_.transfer, &headers);
    if (!st.ok()) {
      curl_easy_cleanup(e);
      return st;
    }
    char errbuf[CURL_ERROR_SIZE] = {0};
    Body body{upload};
    resp->body.clear();
    resp->code = 0;
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &resp->body);
    if (upload >= 0) {
      struct stat info;
      if (fstat(upload, &info) != 0) {
        curl_easy_cleanup(e);
        return Status::IOError("fstat", errno);
      }
      curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(e, CURLOPT_READFUNCTION, ReadBody);
      curl_easy_setopt(e, CURLOPT_READDATA, &body);
      curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, SeekBody);
      curl_easy_setopt(e, CURLOPT_SEEKDATA, &body);
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(info.st_size));
    } else if (method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (method != "GET") {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    CURLcode code = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->code);
    std::string why = errbuf[0] ? errbuf : curl_easy_strerror(code);
    curl_easy_cleanup(e);
    if (!IsTransientTransfer(code, resp->code, TransferDirection::kUpload)) {
      if (code == CURLE_OK) return Status::OK();
      return Status::Failed(fmt::format("{} {}: {}", method, url.Redacted(), why));
    }
    std::string failure = code == CURLE_OK ? Describe(resp->code) : why;
    if (attempt >= tries)
      return Status::Failed(
          fmt::format("{} {}: {} (after {} tries)", method, url.Redacted(), failure, attempt));
    if (opts_.log)
      opts_.log(fmt::format("{} {}: {}; try {} of {} in {:.1f} s", method, url.Redacted(), failure,
                            attempt + 1, tries, backoff));
    std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
    backoff = std::min(backoff * 2, 60.0);
  }
}

// WebDAV needs each parent collection before a PUT (RFC 4918 §9.7.1).
Status Uploader::MakeCollections(const std::string& url_text) {
  Url url;
  VERDI_RETURN_IF_ERROR(Parse(url_text, &url));
  const std::string& root = url.origin;  // scheme://authority
  std::string path = url.path.substr(0, url.path.rfind('/') + 1);
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string collection = root + path.substr(0, slash + 1);
    if (collections_.contains(collection)) continue;
    Response resp;
    VERDI_RETURN_IF_ERROR(Http("MKCOL", collection, -1, &resp));
    // 201 made, 405 already there; anything else shows in the PUT.
    if (resp.code == 201 || resp.code == 405) collections_.insert(collection);
  }
  return Status::OK();
}

Status Uploader::Put(const fs::path& src, const std::string& url_text, bool no_clobber,
                     bool* existed) {
  if (existed != nullptr) *existed = false;
  int fd = open(src.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("opening " + src.string(), errno);
  struct stat st;
  Status result;
  if (fstat(fd, &st) != 0)
    result = Status::IOError("fstat " + src.string(), errno);
  else if (!S_ISREG(st.st_mode))
    result = Status::Failed(src.string() + ": not a regular file: refused");
  else
    result = PutFd(fd, src.string(), url_text, no_clobber, existed);
  close(fd);
  return result;
}

Status Uploader::PutFd(int fd, const std::string& name, const std::string& url_text,
                       bool no_clobber, bool* existed) {
  if (existed != nullptr) *existed = false;
  Url url;
  VERDI_RETURN_IF_ERROR(Parse(url_text, &url));
  std::string what = fmt::format("uploading {} to {}", name, url.Redacted());
  if (!url.IsNetwork()) return PutFile(fd, url.path, no_clobber, existed).WithPrefix(what);
  if (no_clobber) {
    bool exists = false;
    VERDI_RETURN_IF_ERROR(Exists(url_text, &exists));
    if (exists) {
      *existed = true;
      return Status::OK();
    }
  }
  if (!url.IsS3()) VERDI_RETURN_IF_ERROR(MakeCollections(url_text));
  Response resp;
  VERDI_RETURN_IF_ERROR(Http("PUT", url_text, fd, &resp));
  if (resp.code >= 200 && resp.code < 300) return Status::OK();
  return Status::Failed(fmt::format("{}: {}", what, Describe(resp.code)));
}

Status Uploader::Exists(const std::string& url_text, bool* exists) {
  *exists = false;
  Url url;
  VERDI_RETURN_IF_ERROR(Parse(url_text, &url));
  if (!url.IsNetwork()) {
    std::error_code ec;
    *exists = fs::exists(fs::symlink_status(url.path, ec));
    return Status::OK();
  }
  Response resp;
  VERDI_RETURN_IF_ERROR(Http("HEAD", url_text, -1, &resp));
  if (resp.code == 404) return Status::OK();
  if (resp.code >= 200 && resp.code < 300) {
    *exists = true;
    return Status::OK();
  }
  return Status::Failed(fmt::format("HEAD {}: {}", url.Redacted(), Describe(resp.code)));
}

Status Uploader::Read(const std::string& url_text, std::string* body) {
  Url url;
  VERDI_RETURN_IF_ERROR(Parse(url_text, &url));
  if (!url.IsNetwork()) {
    std::ifstream in(url.path, std::ios::binary);
    if (!in) return Status::IOError("reading " + url.path, errno);
    std::stringstream ss;
    ss << in.rdbuf();
    *body = ss.str();
    return Status::OK();
  }
  Response resp;
  VERDI_RETURN_IF_ERROR(Http("GET", url_text, -1, &resp));
  if (resp.code != 200)
    return Status::Failed(fmt::format("GET {}: {}", url.Redacted(), Describe(resp.code)));
  *body = std::move(resp.body);
  return Status::OK();
}

Status Uploader::Remove(const std::string& url_text) {
  Url url;
  VERDI_RETURN_IF_ERROR(Parse(url_text, &url));
  if (!url.IsNetwork()) {
    std::error_code ec;
    fs::remove_all(url.path, ec);
    if (ec) return Status::IOError("removing " + url.path, ec.value());
    return Status::OK();
  }
  if (url.IsS3()) return RemoveS3(url);
  Response resp;
  VERDI_RETURN_IF_ERROR(Http("DELETE", url_text, -1, &resp));
  // A collection is named with a trailing slash (nginx answers 409 otherwise).
  if (resp.code == 409 && url_text.back() != '/')
    VERDI_RETURN_IF_ERROR(Http("DELETE", url_text + "/", -1, &resp));
  if (resp.code == 404 || (resp.code >= 200 && resp.code < 300)) return Status::OK();
  return Status::Failed(fmt::format("DELETE {}: {}", url.Redacted(), Describe(resp.code)));
}

// S3 has no directories: the object itself and every key under "<key>/".
Status Uploader::RemoveS3(const Url& url) {
  std::string key = PercentDecode(url.key);
  while (!key.empty() && key.back() == '/') key.pop_back();
  std::vector<std::string> keys;
  VERDI_RETURN_IF_ERROR(ListPrefix(url, key.empty() ? "" : key + "/", opts_.transfer,
                                   std::max(1, opts_.tries), &keys));
  if (!key.empty()) keys.push_back(key);
  for (const std::string& k : keys) {
    std::string object = url.ObjectUrl(EncodeS3Key(k));
    Response resp;
    VERDI_RETURN_IF_ERROR(Http("DELETE", object, -1, &resp));
    if (resp.code != 404 && (resp.code < 200 || resp.code >= 300))
      return Status::Failed(fmt::format("DELETE {}: {}", RedactUrls(object), Describe(resp.code)));
  }
  return Status::OK();
}

}  // namespace verdi::localize
