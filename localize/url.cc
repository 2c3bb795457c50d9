#include "localize/url.h"

#include "jobspec/url_escape.h"

#include <cctype>

namespace verdi::localize {
namespace {}  // namespace

std::string Redacted(const std::string& text) {
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string::npos) return text;
  size_t auth_start = scheme_end + 3;
  size_t auth_end = text.find_first_of("/?#", auth_start);
  if (auth_end == std::string::npos) auth_end = text.size();
  size_t at = text.rfind('@', auth_end - 1);
  if (at == std::string::npos || at < auth_start || auth_end == auth_start) return text;
  return text.substr(0, auth_start) + "***" + text.substr(at);
}

std::string Url::Redacted() const { return localize::Redacted(original); }

std::string Url::Basename() const {
  std::string p = path;
  size_t q = p.find_first_of("?#");
  if (scheme != Scheme::kFile && q != std::string::npos) p.resize(q);
  while (!p.empty() && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
  return scheme == Scheme::kFile ? base : PercentDecode(base);
}

Status ParseUrl(const std::string& text, Url* out) {
  *out = Url();
  out->original = text;
  if (text.empty()) return Status::Invalid("empty URL");
  if (text[0] == '/') {
    out->scheme = Scheme::kFile;
    out->path = text;
    return Status::OK();
  }
  size_t sep = text.find("://");
  if (sep == std::string::npos) {
    return Status::Invalid("not a URL or an absolute path: " + localize::Redacted(text));
  }
  std::string scheme = text.substr(0, sep);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string rest = text.substr(sep + 3);
  if (scheme == "file") {
    // file:///abs/path or file://localhost/abs/path
    size_t slash = rest.find('/');
    std::string host = slash == std::string::npos ? rest : rest.substr(0, slash);
    if (!host.empty() && host != "localhost") {
      return Status::Invalid("file URL with a remote host: " + localize::Redacted(text));
    }
    if (slash == std::string::npos) return Status::Invalid("file URL without a path: " + text);
    out->scheme = Scheme::kFile;
    out->path = PercentDecode(rest.substr(slash));
    return Status::OK();
  }
  if (scheme == "http") {
    out->scheme = Scheme::kHttp;
  } else if (scheme == "https") {
    out->scheme = Scheme::kHttps;
  } else if (scheme == "ftp") {
    out->scheme = Scheme::kFtp;
  } else if (scheme == "sftp") {
    out->scheme = Scheme::kSftp;
  } else if (scheme == "s3") {
    out->scheme = Scheme::kS3;
  } else if (scheme == "s3s") {
    out->scheme = Scheme::kS3s;
  } else {
    return Status::Invalid("unsupported URL scheme '" + scheme + "': " + localize::Redacted(text));
  }
  size_t auth_end = rest.find_first_of("/?#");
  std::string authority = auth_end == std::string::npos ? rest : rest.substr(0, auth_end);
  out->path = auth_end == std::string::npos ? "/" : rest.substr(auth_end);
  if (!out->path.empty() && out->path[0] != '/') out->path = "/" + out->path;
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    out->user = PercentDecode(userinfo.substr(0, colon));
    if (colon != std::string::npos) out->password = PercentDecode(userinfo.substr(colon + 1));
  }
  if (authority.empty()) return Status::Invalid("URL without a host: " + localize::Redacted(text));
  out->host = authority;
  if (out->IsS3() && out->Bucket().empty()) {
    return Status::Invalid("S3 URL without a bucket (s3://endpoint/bucket/key): " +
                           localize::Redacted(text));
  }
  return Status::OK();
}

std::string Url::Bucket() const {
  if (!IsS3()) return "";
  size_t end = path.find_first_of("/?#", 1);
  return path.substr(1, end == std::string::npos ? std::string::npos : end - 1);
}

std::string Url::Key() const {
  if (!IsS3()) return "";
  size_t slash = path.find('/', 1);
  if (slash == std::string::npos) return "";
  size_t end = path.find_first_of("?#", slash);
  return path.substr(slash + 1, end == std::string::npos ? std::string::npos : end - slash - 1);
}

std::string Url::TransferUrl() const {
  if (!IsS3()) return original;
  return std::string(scheme == Scheme::kS3s ? "https://" : "http://") + host + path;
}

}  // namespace verdi::localize
