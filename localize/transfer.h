// One URL-scheme layer over libcurl, for downloads (fetch.h) and uploads
// (publishing): what a CURL easy handle needs to know about a URL — the
// scheme mapping (s3 → http, s3s → https, dav → http, davs → https, gs and
// azure to their endpoints), the protocols allowed, timeouts, .netrc, TLS
// verification, AWS SigV4 signing for S3 and GCS, Shared Key or a SAS
// token for Azure.
#pragma once

#include <curl/curl.h>

#include <string>
#include <vector>

#include "base/status.h"
#include "localize/url.h"

namespace verdi::localize {

/// HySDS's BUCKET_PROFILES entry: the AWS profile for the URLs that any of
/// `patterns` (ECMAScript regexes, searched anywhere in the URL) matches;
/// no patterns: every URL. The first entry that matches wins.
struct BucketProfile {
  std::string profile;
  std::vector<std::string> patterns;
};

struct TransferSettings {
  long connect_timeout_seconds = 30;
  /// A transfer slower than stall_bytes_per_second for stall_seconds fails;
  /// a long transfer that keeps moving never times out.
  long stall_seconds = 60;
  long stall_bytes_per_second = 1;
  bool use_netrc = false;  // CURLOPT_NETRC optional (~/.netrc or $NETRC)
  bool verify_tls = true;
  /// Hosts ("host" or "host:port", as in the URL) whose TLS certificate is
  /// not verified even when verify_tls is true.
  std::vector<std::string> insecure_hosts;
  std::vector<BucketProfile> bucket_profiles;
  /// sftp://: the private key to log in with ("": libcurl's default,
  /// ~/.ssh/id_rsa), and the known_hosts file the server's host key must be
  /// in ("": ~/.ssh/known_hosts when it exists, else the key is not checked).
  std::string ssh_private_key;
  std::string ssh_known_hosts;
  /// Where gs:// requests go ("": kGcsEndpoint): scheme://host[:port].
  std::string gs_endpoint;
};

/// The request headers a configured handle points at: keep this alive until
/// the transfer is over. Add your own before ConfigureTransfer.
class TransferHeaders {
 public:
  TransferHeaders() = default;
  TransferHeaders(const TransferHeaders&) = delete;
  TransferHeaders& operator=(const TransferHeaders&) = delete;
  ~TransferHeaders() { Clear(); }
  void Add(const std::string& header) { list_ = curl_slist_append(list_, header.c_str()); }
  void Clear() {
    curl_slist_free_all(list_);
    list_ = nullptr;
  }
  curl_slist* list() const { return list_; }

  /// How an object-store request was authorized, for messages ("signed
  /// with the key of AZURE_STORAGE_KEY", "anonymous: no credentials
  /// found"); never a secret. "" for the other schemes.
  std::string credentials;
  /// " (<credentials>)" after an HTTP 401 or 403 of an object store, so
  /// that its error says which credentials were refused; else "".
  std::string CredentialsNote(long http) const {
    return (http == 401 || http == 403) && !credentials.empty() ? " (" + credentials + ")" : "";
  }

 private:
  curl_slist* list_ = nullptr;
};

/// The AWS profile BUCKET_PROFILES picks for `url` ("" when none).
/// Invalid when a pattern is not a valid regex.
Status BucketProfileFor(const std::string& url, const std::vector<BucketProfile>& profiles,
                        std::string* profile);

/// Sets on `easy` what depends on `url` and `settings`: CURLOPT_URL (the
/// URL's TransferUrl(), or the configured gs or Azure endpoint), the
/// protocols allowed (redirects followed for http(s) and dav(s) only),
/// connect and stall timeouts, .netrc, TLS verification, NOSIGNAL, the user
/// agent; for sftp, the key and known_hosts; for S3 and gs URLs, SigV4
/// signing (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3", CURLOPT_USERPWD
/// key:secret, headers x-amz-content-sha256: UNSIGNED-PAYLOAD and
/// x-amz-security-token) with the URL's user:password if it has one, else
/// for s3 the credentials of the profile BucketProfileFor picks, else of
/// the environment (aws_credentials.h), for gs the HMAC key of
/// gs_credentials.h (region "auto"); for Azure URLs, x-ms-date and
/// x-ms-version, and a SAS token in the URL, else the URL's
/// account:key, else azure_credentials.h's key (a Shared Key Authorization
/// of a GET) or SAS token (appended to the query). None found: the request
/// goes unsigned. Leaves the method, the body, the callbacks and
/// CURLOPT_FAILONERROR to the caller (an Azure request is signed as a GET
/// without a body); call it after curl_easy_reset. CURLOPT_HTTPHEADER is
/// set to `headers` when it holds any. Errors (a bad profile, a bad
/// connection string, an unsupported scheme) name the redacted URL.
Status ConfigureTransfer(CURL* easy, const Url& url, const TransferSettings& settings,
                         TransferHeaders* headers);

/// RFC 3986 percent-encoding of an S3 key as SigV4 expects it: every byte
/// but A-Z a-z 0-9 - . _ ~ and '/'.
std::string EncodeS3Key(const std::string& key);

/// The same for a query value: '/' encoded too.
std::string EncodeQueryValue(const std::string& value);

}  // namespace verdi::localize
