#include "localize/transfer.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "localize/aws_credentials.h"
#include "localize/azure_credentials.h"
#include "localize/azure_shared_key.h"
#include "localize/gs_credentials.h"

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

std::string EncodeQueryValue(const std::string& value) {
  std::string out;
  for (char c : EncodeS3Key(value)) out += c == '/' ? std::string("%2F") : std::string(1, c);
  return out;
}

namespace {

const char* Protocols(Scheme s) {
  switch (s) {
    case Scheme::kHttp:
    case Scheme::kHttps:
    case Scheme::kDav:
    case Scheme::kDavs:
      return "http,https";
    case Scheme::kFtp:
      return "ftp";
    case Scheme::kSftp:
      return "sftp";
    case Scheme::kS3:
      return "http";
    case Scheme::kS3s:
      return "https";
    case Scheme::kGs:  // the endpoint decides
    case Scheme::kAzure:
    case Scheme::kAzures:
      return "http,https";
    case Scheme::kFile:
      break;
  }
  return nullptr;
}

// The keys S3 (or GCS's XML API) requests are signed with.
Status S3Credentials(const Url& url, const TransferSettings& settings, AwsCredentials* creds) {
  *creds = AwsCredentials();
  if (!url.user.empty()) {
    if (!url.IsGs()) (void)LoadAwsCredentials("", creds);  // for the region only
    creds->access_key_id = url.user;
    creds->secret_access_key = url.password;
    creds->session_token.clear();
    creds->source = "the URL";
  } else if (url.IsGs()) {
    GsCredentials gs = LoadGsCredentials();
    creds->access_key_id = gs.access_id;
    creds->secret_access_key = gs.secret;
    creds->source = gs.source;
  } else {
    std::string profile;
    VERDI_RETURN_IF_ERROR(BucketProfileFor(url.original, settings.bucket_profiles, &profile));
    Status st = LoadAwsCredentials(profile, creds);
    if (!st.ok()) return Status::Invalid(url.Redacted() + ": " + st.message());
  }
  if (url.IsGs()) {
    creds->region = "auto";  // what GCS's XML API signs with
  } else {
    std::string region = RegionOfEndpoint(url.host);
    if (!region.empty()) creds->region = region;
    if (creds->region.empty()) creds->region = "us-east-1";
  }
  return Status::OK();
}

Status ConfigureS3(CURL* e, const Url& url, const TransferSettings& settings,
                   TransferHeaders* headers) {
  if (url.IsGs()) {
    std::string endpoint = settings.gs_endpoint.empty() ? kGcsEndpoint : settings.gs_endpoint;
    while (endpoint.size() > 1 && endpoint.back() == '/') endpoint.pop_back();
    curl_easy_setopt(e, CURLOPT_URL, (endpoint + url.ObjectPath()).c_str());
  }
  AwsCredentials creds;
  VERDI_RETURN_IF_ERROR(S3Credentials(url, settings, &creds));
  if (creds.empty()) {  // anonymous: public buckets only
    headers->credentials = "anonymous: no credentials found";
    return Status::OK();
  }
  headers->credentials = "signed with the keys of " + creds.source;
  std::string sigv4 = "aws:amz:" + creds.region + ":s3";
  curl_easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4.c_str());
  std::string userpwd = creds.access_key_id + ":" + creds.secret_access_key;
  curl_easy_setopt(e, CURLOPT_USERPWD, userpwd.c_str());
  // S3 wants the payload hash header; libcurl signs with its value.
  headers->Add("x-amz-content-sha256: UNSIGNED-PAYLOAD");
  if (!creds.session_token.empty()) headers->Add("x-amz-security-token: " + creds.session_token);
  return Status::OK();
}

// Whether a query holds a SAS token's signature (its parameter "sig").
bool HasSignature(const std::string& query) {
  for (size_t p = 0; p < query.size();) {
    size_t amp = std::min(query.find('&', p), query.size());
    if (query.compare(p, 4, "sig=") == 0 && amp > p + 4) return true;
    p = amp + 1;
  }
  return false;
}

Status ConfigureAzure(CURL* e, const Url& url, TransferHeaders* headers) {
  // The account's endpoint comes from where its credentials would, even
  // when the URL carries its own.
  AzureCredentials creds;
  Status loaded = LoadAzureCredentials(url.account, &creds);
  bool url_sas = HasSignature(url.query);
  if (url_sas || !url.password.empty()) {
    std::string endpoint = loaded.ok() ? creds.blob_endpoint : "";
    creds = AzureCredentials();
    creds.blob_endpoint = endpoint;
    if (url_sas) {
      headers->credentials = "with the SAS token of the URL";
    } else {
      creds.account = url.user;
      creds.key = url.password;
      creds.source = "the URL";
    }
  } else if (!loaded.ok()) {
    return Status::Invalid(url.Redacted() + ": " + loaded.message());
  }
  if (creds.account.empty()) creds.account = url.account;
  std::string endpoint = creds.blob_endpoint.empty() ? url.Endpoint() : creds.blob_endpoint;
  std::string query = url.query;
  if (!creds.sas.empty()) query += (query.empty() ? "" : "&") + creds.sas;
  std::string path = "/" + url.bucket + (url.key.empty() ? "" : "/" + url.key);
  size_t host = endpoint.find("://");
  size_t slash = endpoint.find('/', host == std::string::npos ? 0 : host + 3);
  std::string signed_path = (slash == std::string::npos ? "" : endpoint.substr(slash)) + path;
  curl_easy_setopt(e, CURLOPT_URL, (endpoint + path + (query.empty() ? "" : "?" + query)).c_str());
  std::string date = HttpDate(std::chrono::system_clock::now());
  headers->Add("x-ms-date: " + date);
  headers->Add(std::string("x-ms-version: ") + kAzureApiVersion);
  if (!creds.key.empty()) {
    std::string to_sign =
        SharedKeyStringToSign("GET", creds.account, signed_path, query,
                              {{"x-ms-date", date}, {"x-ms-version", kAzureApiVersion}});
    std::string signature;
    Status st = SharedKeySignature(creds.key, to_sign, &signature);
    if (!st.ok())
      return Status::Invalid(url.Redacted() + ": " + st.message() + " (" + creds.source + ")");
    headers->Add("Authorization: SharedKey " + creds.account + ":" + signature);
    headers->credentials = "signed with the key of " + creds.source;
  } else if (!creds.sas.empty()) {
    headers->credentials = "with the SAS token of " + creds.source;
  } else if (!url_sas) {
    headers->credentials = "anonymous: no credentials found";
  }
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
  if (url.IsHttp()) {
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
  }
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, settings.connect_timeout_seconds);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, settings.stall_bytes_per_second);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, settings.stall_seconds);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "verdi/" VERDI_VERSION);
  if (settings.use_netrc && !url.IsObjectStore())
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
  if (url.IsAzure()) VERDI_RETURN_IF_ERROR(ConfigureAzure(e, url, headers));
  if (headers->list()) curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers->list());
  return Status::OK();
}

}  // namespace verdi::localize
