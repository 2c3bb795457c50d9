// URLs of the inputs a job localizes: parsing, and a form safe to print.
#pragma once

#include <string>

#include "base/status.h"

namespace verdi::localize {

enum class Scheme { kFile, kHttp, kHttps, kFtp, kSftp, kS3, kS3s };

/// A parsed URL. `path` is percent-decoded for file URLs (and plain paths),
/// kept as written for the network schemes.
struct Url {
  Scheme scheme = Scheme::kFile;
  std::string original;  // as given, may hold credentials
  std::string user;      // empty when none
  std::string password;  // empty when none
  std::string host;      // with the port, when given
  std::string path;      // starts with '/'

  /// `original` with its credentials hidden (RedactUrls).
  std::string Redacted() const;
  /// The last non-empty path segment, percent-decoded ("" for "/").
  std::string Basename() const;
  bool IsNetwork() const { return scheme != Scheme::kFile; }
  bool IsS3() const { return scheme == Scheme::kS3 || scheme == Scheme::kS3s; }
  /// S3 URLs (s3://endpoint[:port]/bucket/key, path-style): the bucket and
  /// the key, as written (still percent-encoded). Empty for other schemes.
  std::string Bucket() const;
  std::string Key() const;
  /// The URL libcurl transfers: s3:// becomes http://, s3s:// https://
  /// (without credentials: S3 requests are signed instead); any other
  /// network URL is `original`.
  std::string TransferUrl() const;
};

/// Parses file://, http://, https://, ftp://, sftp://, s3://, s3s:// URLs and
/// plain absolute paths. An s3 URL needs a bucket.
/// Errors never include the credentials of the URL.
Status ParseUrl(const std::string& text, Url* out);

}  // namespace verdi::localize
