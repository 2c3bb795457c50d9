#include "verdi/job/instance_metadata.h"

#include <curl/curl.h>

#include <cctype>
#include <cstdlib>
#include <utility>

namespace verdi {
namespace {

size_t Collect(char* data, size_t size, size_t n, void* out) {
  auto* text = static_cast<std::string*>(out);
  if (text->size() + size * n > 64 * 1024) return 0;  // a fact is short
  text->append(data, size * n);
  return size * n;
}

// One request; false when there was no HTTP answer at all.
bool Ask(const std::string& url, const char* method, const std::string& header,
         std::chrono::milliseconds timeout, long* code, std::string* body) {
  CURL* e = curl_easy_init();
  if (e == nullptr) return false;
  struct curl_slist* headers = nullptr;
  if (!header.empty()) headers = curl_slist_append(headers, header.c_str());
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_NOPROXY, "*");  // the service is link-local, never proxied
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, body);
  CURLcode rc = curl_easy_perform(e);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, code);
  curl_slist_free_all(headers);
  curl_easy_cleanup(e);
  return rc == CURLE_OK;
}

}  // namespace

std::string InstanceMetadataEndpoint() {
  const char* disabled = std::getenv("AWS_EC2_METADATA_DISABLED");
  if (disabled != nullptr) {
    std::string value = disabled;
    for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (value == "true") return "";
  }
  const char* endpoint = std::getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  std::string out = endpoint != nullptr && *endpoint != '\0' ? endpoint : "http://169.254.169.254";
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

std::map<std::string, std::string> ReadInstanceMetadata(const std::string& endpoint,
                                                        std::chrono::milliseconds timeout) {
  std::map<std::string, std::string> facts;
  if (endpoint.empty()) return facts;
  long code = 0;
  std::string token;
  if (!Ask(endpoint + "/latest/api/token", "PUT", "X-aws-ec2-metadata-token-ttl-seconds: 21600",
           timeout, &code, &token))
    return facts;  // nothing answers there
  std::string header = code == 200 ? "X-aws-ec2-metadata-token: " + token : "";
  static const std::pair<const char*, const char*> kFacts[] = {
      {"ec2_instance_id", "instance-id"},
      {"ec2_instance_type", "instance-type"},
      {"ec2_placement_availability_zone", "placement/availability-zone"},
      {"ec2_public_hostname", "public-hostname"},
      {"ec2_public_ipv4", "public-ipv4"}};
  for (const auto& [fact, path] : kFacts) {
    std::string body;
    if (!Ask(endpoint + "/latest/meta-data/" + path, "GET", header, timeout, &code, &body))
      break;  // it stopped answering
    if (code == 200 && !body.empty()) facts[fact] = body;
  }
  return facts;
}

}  // namespace verdi
