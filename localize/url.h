// URLs of the inputs a job localizes: parsing, and a form safe to print.
#pragma once

#include <string>

#include "jobspec/status.h"

namespace verdi::localize {

enum class Scheme { kFile, kHttp, kHttps, kFtp };

/// A parsed URL. `path` is percent-decoded for file URLs (and plain paths),
/// kept as written for the network schemes.
struct Url {
  Scheme scheme = Scheme::kFile;
  std::string original;  // as given, may hold credentials
  std::string user;      // empty when none
  std::string password;  // empty when none
  std::string host;      // with the port, when given
  std::string path;      // starts with '/'

  /// `original` with any user:password replaced by "***".
  std::string Redacted() const;
  /// The last non-empty path segment, percent-decoded ("" for "/").
  std::string Basename() const;
  bool IsNetwork() const { return scheme != Scheme::kFile; }
};

/// Parses file://, http://, https://, ftp:// URLs and plain absolute paths.
/// Errors never include the credentials of the URL.
Status ParseUrl(const std::string& text, Url* out);

/// `text` with the user:password part of a URL replaced by "***"; any
/// string is accepted (used for messages about URLs that did not parse).
std::string Redacted(const std::string& text);

}  // namespace verdi::localize
