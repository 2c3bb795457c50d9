// Uploads for publishing: files put at URLs, with no-clobber, existence
// checks, reads of small remote files and removal (rollback).
//   file://   written to a hidden temporary name in the target directory,
//             then renamed (or hard-linked, for no-clobber): a reader never
//             sees half a file.
//   http(s):// and dav(s):// (WebDAV): MKCOL of the parent collections, PUT,
//             HEAD, GET, DELETE.
//   s3(s):// and gs:// (GCS's XML API)  SigV4-signed PUT, HEAD, GET, DELETE
//             (a "directory" is every key under its prefix, listed with
//             ListObjectsV2).
//   azure(s):// is refused.
// Every request is set up by the URL-scheme layer (transfer.h).
#pragma once

#include <filesystem>
#include <functional>
#include <set>
#include <string>

#include "base/status.h"
#include "localize/transfer.h"
#include "localize/url.h"

namespace verdi::localize {

struct UploadOptions {
  int tries = 3;               // for transient failures (5xx, 429, connection errors)
  double backoff_seconds = 1;  // before the 2nd try; doubles each time
  /// Timeouts, TLS, BUCKET_PROFILES and AWS credentials: see transfer.h.
  TransferSettings transfer;
  /// Progress lines (retries); URLs in them are redacted.
  std::function<void(const std::string&)> log;
};

/// `base` + "/" + `relpath` with each path segment of `relpath`
/// percent-encoded for network URLs, and only its '%' encoded for file://
/// URLs (whose paths are percent-decoded: a file named "%2e%2e%2fx" must
/// not become "../x"); kept as is for plain paths.
std::string JoinUrl(const std::string& base, const std::string& relpath);

/// Talks to one or more destinations. Not thread-safe: one per job.
class Uploader {
 public:
  explicit Uploader(UploadOptions opts) : opts_(std::move(opts)) {}

  /// Puts the local file `src` at `url`. With `no_clobber`, an existing
  /// target is left alone and `*existed` is set (the call is still OK);
  /// `existed` may be null only when `no_clobber` is false. `src` must be a
  /// regular file (a FIFO is refused, never waited on).
  Status Put(const std::filesystem::path& src, const std::string& url, bool no_clobber,
             bool* existed);
  /// The same from the regular file open at `fd` (read from offset 0 with
  /// pread, left open), which the caller opened as it saw fit; `name` names
  /// it in messages.
  Status PutFd(int fd, const std::string& name, const std::string& url, bool no_clobber,
               bool* existed);
  /// Whether a file exists at `url`.
  Status Exists(const std::string& url, bool* exists);
  /// The content of the (small) file at `url`.
  Status Read(const std::string& url, std::string* body);
  /// Removes the file or the whole directory (collection) at `url`; a
  /// missing one is not an error.
  Status Remove(const std::string& url);

 private:
  struct Response {
    long code = 0;
    std::string body;
  };
  // `upload`: the fd of the body of a PUT, or -1.
  Status Http(const std::string& method, const std::string& url, int upload, Response* resp);
  Status MakeCollections(const std::string& url);
  Status RemoveS3(const Url& url);

  UploadOptions opts_;
  std::set<std::string> collections_;  // made (or found) already
};

}  // namespace verdi::localize
