#include "localize/url.h"

#include "base/redact.h"
#include "jobspec/url_escape.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <utility>

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

namespace {

// An IP address or localhost, with or without a port: an emulator's host,
// whose URLs name the account in their path.
bool IsAddress(const std::string& host) {
  if (!host.empty() && host[0] == '[') return true;  // IPv6
  std::string name = host.substr(0, host.find(':'));
  if (name == "localhost") return true;
  return !name.empty() && name.find_first_not_of("0123456789.") == std::string::npos;
}

// The first segment of `*rest` (removed from it, with its '/').
std::string TakeSegment(std::string* rest) {
  size_t slash = rest->find('/');
  std::string seg = rest->substr(0, slash);
  rest->erase(0, slash == std::string::npos ? rest->size() : slash + 1);
  return seg;
}

// bucket, key, account, query and bucket_path of an object-store URL.
Status SplitObjectPath(Url* u) {
  std::string rest = u->path.substr(1);
  size_t q = rest.find_first_of("?#");
  if (q != std::string::npos) {
    if (rest[q] == '?') u->query = rest.substr(q + 1, rest.find('#', q) - q - 1);
    rest.resize(q);
  }
  std::string root = "/";
  if (u->IsAzure()) {
    if (IsAddress(u->host)) {
      u->account = TakeSegment(&rest);
      root += u->account + "/";
    } else {
      u->account = u->host.substr(0, u->host.find('.'));
    }
    if (u->account.empty())
      return Status::Invalid("Azure URL without a storage account: " + u->Redacted());
  }
  if (u->IsGs() && u->host != "storage.googleapis.com") {
    u->bucket = u->host;  // gs://bucket/key
  } else {
    u->bucket = TakeSegment(&rest);
    root += u->bucket + "/";
  }
  u->key = rest;
  u->bucket_path = root;
  if (u->bucket.empty()) {
    const char* form = u->IsAzure() ? "azure://account.blob.core.windows.net/container/blob"
                       : u->IsGs()  ? "gs://bucket/key"
                                    : "s3://endpoint/bucket/key";
    return Status::Invalid(std::string("URL without a bucket or container (") + form +
                           "): " + u->Redacted());
  }
  return Status::OK();
}

}  // namespace

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
  static const std::pair<const char*, Scheme> kSchemes[] = {
      {"http", Scheme::kHttp},   {"https", Scheme::kHttps},  {"dav", Scheme::kDav},
      {"davs", Scheme::kDavs},   {"ftp", Scheme::kFtp},      {"sftp", Scheme::kSftp},
      {"s3", Scheme::kS3},       {"s3s", Scheme::kS3s},      {"gs", Scheme::kGs},
      {"azure", Scheme::kAzure}, {"azures", Scheme::kAzures}};
  auto known = std::find_if(std::begin(kSchemes), std::end(kSchemes),
                            [&](const auto& entry) { return scheme == entry.first; });
  if (known == std::end(kSchemes))
    return Status::Invalid("unsupported URL scheme '" + scheme + "': " + RedactUrls(text));
  out->scheme = known->second;
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
  out->origin = text.substr(0, auth_end == std::string::npos ? text.size() : sep + 3 + auth_end);
  if (out->IsObjectStore()) return SplitObjectPath(out);
  return Status::OK();
}

bool Url::IsHttp() const {
  return scheme == Scheme::kHttp || scheme == Scheme::kHttps || scheme == Scheme::kDav ||
         scheme == Scheme::kDavs;
}

std::string Url::ObjectUrl(const std::string& encoded_key) const {
  return origin + bucket_path + encoded_key + (IsAzure() && !query.empty() ? "?" + query : "");
}

std::string Url::BucketUrl(const std::string& list_query) const {
  std::string root = bucket_path.substr(0, bucket_path.size() - 1);  // without its last '/'
  return origin + root + "?" + list_query + (IsAzure() && !query.empty() ? "&" + query : "");
}

std::string Url::Endpoint() const {
  if (IsGs()) return kGcsEndpoint;
  bool tls = scheme == Scheme::kS3s || scheme == Scheme::kAzures;
  std::string base = std::string(tls ? "https://" : "http://") + host;
  if (IsAzure() && IsAddress(host)) base += "/" + account;
  return base;
}

std::string Url::ObjectPath() const {
  return "/" + bucket + (key.empty() ? "" : "/" + key) + (query.empty() ? "" : "?" + query);
}

std::string Url::TransferUrl() const {
  switch (scheme) {
    case Scheme::kDav:
    case Scheme::kDavs:
      return (scheme == Scheme::kDavs ? "https" : "http") + original.substr(original.find("://"));
    case Scheme::kS3:
    case Scheme::kS3s:
      return Endpoint() + path;
    case Scheme::kGs:
    case Scheme::kAzure:
    case Scheme::kAzures:
      return Endpoint() + ObjectPath();
    default:
      return original;
  }
}

}  // namespace verdi::localize
