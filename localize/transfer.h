// One URL-scheme layer over libcurl, for downloads (fetch.h) and uploads
// (publishing): what a CURL easy handle needs to know about a URL — the
// scheme mapping (s3 → http, s3s → https), the protocols allowed, timeouts,
// .netrc, TLS verification, and AWS SigV4 signing for S3.
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

 private:
  curl_slist* list_ = nullptr;
};

/// The AWS profile BUCKET_PROFILES picks for `url` ("" when none).
/// Invalid when a pattern is not a valid regex.
Status BucketProfileFor(const std::string& url, const std::vector<BucketProfile>& profiles,
                        std::string* profile);

/// Sets on `easy` what depends on `url` and `settings`: CURLOPT_URL (the
/// URL's TransferUrl()), the protocols allowed (redirects followed for
/// http(s) only), connect and stall timeouts, .netrc, TLS verification,
/// NOSIGNAL, the user agent; for sftp, the key and known_hosts; for S3 URLs, SigV4 signing
/// (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3", CURLOPT_USERPWD key:secret, headers
/// x-amz-content-sha256: UNSIGNED-PAYLOAD and x-amz-security-token) with
/// the URL's user:password if it has one, else the credentials of the
/// profile BucketProfileFor picks, else of the environment (none found:
/// the request goes unsigned). Leaves the method, the body, the callbacks
/// and CURLOPT_FAILONERROR to the caller; call it after curl_easy_reset.
/// CURLOPT_HTTPHEADER is set to `headers` when it holds any. Errors (a bad
/// profile, an unsupported scheme) name the redacted URL.
Status ConfigureTransfer(CURL* easy, const Url& url, const TransferSettings& settings,
                         TransferHeaders* headers);

/// RFC 3986 percent-encoding of an S3 key as SigV4 expects it: every byte
/// but A-Z a-z 0-9 - . _ ~ and '/'.
std::string EncodeS3Key(const std::string& key);

}  // namespace verdi::localize
