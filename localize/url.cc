#include "localize/url.h"

#include "base/redact.h"
#include "jobspec/url_escape.h"

#include <cctype>

namespace verdi::localize {

std::string Url::Redacted() const { return RedactUrls(original); }

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
    return Status::Invalid("not a URL or an absolute path: " + RedactUrls(text));
  }
  std::string scheme = text.substr(0, sep);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string rest = text.substr(sep + 3);
  if (scheme == "file") {
    // file:///abs/path or file://localhost/abs/path
    size_t slash = rest.find('/');
    std::string host = slash == std::string::npos ? rest : rest.substr(0, slash);
    if (!host.empty() && host != "localhost") {
      return Status::Invalid("file URL with a remote host: " + RedactUrls(text));
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
    return Status::Invalid("unsupported URL scheme '" + scheme + "': " + RedactUrls(text));
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
  if (authority.empty()) return Status::Invalid("URL without a host: " + RedactUrls(text));
  out->host = authority;
  if (out->IsS3() && out->Bucket().empty()) {
    return Status::Invalid("S3 URL without a bucket (s3://endpoint/bucket/key): " +
                           RedactUrls(text));
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
