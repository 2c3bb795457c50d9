#include "localize/transfer.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "localize/aws_credentials.h"

namespace verdi::localize {

Status BucketProfileFor(const std::string& url, const std::vector<BucketProfile>& profiles,
                        std::string* profile) {
  profile->clear();
  for (const BucketProfile& p : profiles) {
    if (p.patterns.empty()) {
      *profile = p.profile;
      return Status::OK();
    }
    for (const std::string& pattern : p.patterns) {
      std::regex re;
      try {
        re = std::regex(pattern, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return Status::Invalid("BUCKET_PROFILES: profile " + p.profile + ": bad pattern '" +
                               pattern + "': " + e.what());
      }
      if (std::regex_search(url, re)) {
        *profile = p.profile;
        return Status::OK();
      }
    }
  }
  return Status::OK();
}

std::string EncodeS3Key(const std::string& key) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

namespace {

const char* Protocols(Scheme s) {
  switch (s) {
    case Scheme::kHttp:
    case Scheme::kHttps:
      return "http,https";
    case Scheme::kFtp:
      return "ftp";
    case Scheme::kSftp:
      return "sftp";
    case Scheme::kS3:
      return "http";
    case Scheme::kS3s:
      return "https";
    case Scheme::kFile:
      break;
  }
  return nullptr;
}

Status ConfigureS3(CURL* e, const Url& url, const TransferSettings& settings,
                   TransferHeaders* headers) {
  AwsCredentials creds;
  if (!url.user.empty()) {
    (void)LoadAwsCredentials("", &creds);  // for the region only
    if (creds.region.empty()) creds.region = "us-east-1";
    creds.access_key_id = url.user;
    creds.secret_access_key = url.password;
    creds.session_token.clear();
  } else {
    std::string profile;
    VERDI_RETURN_IF_ERROR(BucketProfileFor(url.original, settings.bucket_profiles, &profile));
    Status st = LoadAwsCredentials(profile, &creds);
    if (!st.ok()) return Status::Invalid(url.Redacted() + ": " + st.message());
  }
  if (creds.empty()) return Status::OK();  // anonymous: public buckets only
  std::string region = RegionOfEndpoint(url.host);
  if (region.empty()) region = creds.region;
  std::string sigv4 = "aws:amz:" + region + ":s3";
  curl_easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4.c_str());
  std::string userpwd = creds.access_key_id + ":" + creds.secret_access_key;
  curl_easy_setopt(e, CURLOPT_USERPWD, userpwd.c_str());
  // S3 wants the payload hash header; libcurl signs with its value.
  headers->Add("x-amz-content-sha256: UNSIGNED-PAYLOAD");
  if (!creds.session_token.empty()) headers->Add("x-amz-security-token: " + creds.session_token);
  return Status::OK();
}

void ConfigureSsh(CURL* e, const TransferSettings& settings) {
  if (!settings.ssh_private_key.empty()) {
    curl_easy_setopt(e, CURLOPT_SSH_PRIVATE_KEYFILE, settings.ssh_private_key.c_str());
    curl_easy_setopt(e, CURLOPT_SSH_PUBLIC_KEYFILE, "");  // derived from the private key
  }
  std::string known = settings.ssh_known_hosts;
  if (known.empty()) {
    const char* home = std::getenv("HOME");
    std::error_code ec;
    std::string dflt = std::string(home ? home : "/root") + "/.ssh/known_hosts";
    if (std::filesystem::exists(dflt, ec)) known = dflt;
  }
  // Without a key function, libcurl refuses a host key that is not listed.
  if (!known.empty()) curl_easy_setopt(e, CURLOPT_SSH_KNOWNHOSTS, known.c_str());
}

}  // namespace

Status ConfigureTransfer(CURL* e, const Url& url, const TransferSettings& settings,
                         TransferHeaders* headers) {
  const char* protocols = Protocols(url.scheme);
  if (!protocols) return Status::Invalid(url.Redacted() + ": not a network URL");
  std::string target = url.TransferUrl();
  curl_easy_setopt(e, CURLOPT_URL, target.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols);
  bool http = url.scheme == Scheme::kHttp || url.scheme == Scheme::kHttps;
  if (http) {
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
  }
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, settings.connect_timeout_seconds);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, settings.stall_bytes_per_second);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, settings.stall_seconds);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "verdi/" VERDI_VERSION);
  if (settings.use_netrc && !url.IsS3())
    curl_easy_setopt(e, CURLOPT_NETRC, static_cast<long>(CURL_NETRC_OPTIONAL));
  const auto& insecure = settings.insecure_hosts;
  bool lax = !settings.verify_tls ||
             std::find(insecure.begin(), insecure.end(), url.host) != insecure.end();
  if (!lax) {
    // The host without the port matches too.
    std::string bare = url.host.substr(0, url.host.rfind(':'));
    lax = std::find(insecure.begin(), insecure.end(), bare) != insecure.end();
  }
  if (lax) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (url.scheme == Scheme::kSftp) ConfigureSsh(e, settings);
  if (url.IsS3()) VERDI_RETURN_IF_ERROR(ConfigureS3(e, url, settings, headers));
  if (headers->list()) curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers->list());
  return Status::OK();
}

}  // namespace verdi::localize
