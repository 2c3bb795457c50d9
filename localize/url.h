// URLs of the inputs a job localizes: parsing, and a form safe to print.
#pragma once

#include <string>

#include "base/status.h"

namespace verdi::localize {

enum class Scheme {
  kFile,
  kHttp,
  kHttps,
  kDav,   // WebDAV over http: http:// by another name
  kDavs,  // WebDAV over https
  kFtp,
  kSftp,
  kS3,
  kS3s,
  kGs,  // Google Cloud Storage, through its S3-compatible XML API
  kAzure,
  kAzures
};

/// The endpoint of gs:// URLs when no other is configured.
inline constexpr const char* kGcsEndpoint = "https://storage.googleapis.com";

/// A parsed URL. `path` is percent-decoded for file URLs (and plain paths),
/// kept as written for the network schemes (with the query, if any).
struct Url {
  Scheme scheme = Scheme::kFile;
  std::string original;  // as given, may hold credentials
  std::string origin;    // scheme://[userinfo@]host as written ("" for a file)
  std::string user;      // empty when none
  std::string password;  // empty when none
  std::string host;      // with the port, when given
  std::string path;      // starts with '/'

  // Object stores (s3, s3s, gs, azure, azures), path-style: the bucket (an
  // Azure container), the key (a blob's name) as written, still
  // percent-encoded ("" or ending in '/': a prefix), the Azure storage
  // account, and the query (without '?'; an Azure SAS token).
  std::string bucket, key, account, query;
  std::string bucket_path;  // the path up to the key: "/bucket/", "/" for gs://bucket/key

  /// `original` with its credentials hidden (RedactUrls).
  std::string Redacted() const;
  /// The last non-empty path segment, percent-decoded ("" for "/").
  std::string Basename() const;
  bool IsNetwork() const { return scheme != Scheme::kFile; }
  /// http, https, dav, davs.
  bool IsHttp() const;
  /// s3, s3s and gs: spoken to in S3's API, signed with SigV4.
  bool IsS3() const { return scheme == Scheme::kS3 || scheme == Scheme::kS3s || IsGs(); }
  bool IsGs() const { return scheme == Scheme::kGs; }
  bool IsAzure() const { return scheme == Scheme::kAzure || scheme == Scheme::kAzures; }
  bool IsObjectStore() const { return IsS3() || IsAzure(); }
  /// An object-store URL naming every object under its key.
  bool IsPrefix() const { return IsObjectStore() && (key.empty() || key.back() == '/'); }
  /// The URL (as text, credentials kept) of the object `encoded_key` of the
  /// same bucket; an Azure URL keeps its query (a SAS token).
  std::string ObjectUrl(const std::string& encoded_key) const;
  /// The URL of the bucket itself with `query` (a listing); an Azure URL's
  /// own query is appended to it.
  std::string BucketUrl(const std::string& query) const;
  /// Where an object store's requests go unless the settings say otherwise:
  /// http(s)://host for S3 and Azure (with "/account" for an Azure URL
  /// whose host is an address: the emulator's path-style), kGcsEndpoint for gs.
  std::string Endpoint() const;
  /// An object store's request path: "/bucket[/key][?query]".
  std::string ObjectPath() const;
  /// The URL libcurl transfers: s3:// becomes http://, s3s:// https://,
  /// dav:// http://, davs:// https://; gs and Azure URLs Endpoint() +
  /// ObjectPath() (object-store URLs without credentials: their requests
  /// are signed instead); any other network URL is `original`.
  std::string TransferUrl() const;
};

/// Parses file://, http://, https://, dav://, davs://, ftp://, sftp://,
/// s3://, s3s://, gs://, azure://, azures:// URLs and plain absolute paths.
///   s3[s]://endpoint[:port]/bucket/key (path-style);
///   gs://bucket/key (or gs://storage.googleapis.com/bucket/key);
///   azure[s]://account.blob.core.windows.net/container/blob[?SAS], or,
///   when the host is an IP address or localhost (an emulator),
///   azure[s]://host:port/account/container/blob[?SAS].
/// An object-store URL needs a bucket (container).
/// Errors never include the credentials of the URL.
Status ParseUrl(const std::string& text, Url* out);

}  // namespace verdi::localize
