#include "verdi/job/job_dedup.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "base/log.h"
#include "base/redact.h"
#include "localize/aws_credentials.h"
#include "localize/url.h"
#include "redis/redis_url.h"

namespace verdi {
namespace {

constexpr const char* kIndex = "job_status-current";
// hysds_commons' search() adds these to every search (closed indices skipped).
constexpr const char* kSearchParams =
    "ignore_unavailable=true&allow_no_indices=true&expand_wildcards=open";
constexpr int64_t kPayloadHashTtlSeconds = 86400;  // HYSDS_JOB_STATUS_EXPIRES

size_t Collect(char* data, size_t size, size_t n, void* out) {
  auto* text = static_cast<std::string*>(out);
  if (text->size() + size * n > (8 << 20)) return 0;  // a search answer is small
  text->append(data, size * n);
  return size * n;
}

// The login and password of the `default` entry of a netrc file, as
// Python's netrc.authenticators("default") finds them (a `default` stanza
// or a machine named "default").
bool NetrcDefault(const std::string& path, std::string* login, std::string* password) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> words;
  for (std::string w; text >> w;) words.push_back(w);
  bool in_default = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "default") {
      in_default = true;
    } else if (w == "machine" && i + 1 < words.size()) {
      in_default = words[++i] == "default";
    } else if (in_default && (w == "login" || w == "account") && i + 1 < words.size()) {
      std::string value = words[++i];
      if (w == "login") *login = value;
    } else if (in_default && w == "password" && i + 1 < words.size()) {
      *password = words[++i];
    }
  }
  return !login->empty() || !password->empty();
}

// "abc.us-west-2.es.amazonaws.com" names its region.
std::string RegionOfEsHost(const std::string& host) {
  std::string h = host.substr(0, host.find(':'));
  const std::string suffix = ".es.amazonaws.com";
  if (h.size() <= suffix.size() || !h.ends_with(suffix)) return "";
  std::string rest = h.substr(0, h.size() - suffix.size());
  size_t dot = rest.rfind('.');
  return dot == std::string::npos ? "" : rest.substr(dot + 1);
}

}  // namespace

Json DedupQuery(const std::string& payload_hash, const std::string& uuid,
                const std::vector<std::string>& states) {
  Json query = {
      {"sort", Json::array({{{"job.job_info.time_queued", {{"order", "asc"}}}}})},
      {"size", 1},
      {"_source", Json::array({"_id", "status"})},
      {"query",
       {{"bool",
         {{"must",
           Json::array(
               {{{"term", {{"payload_hash", payload_hash}}}},
                {{"bool", {{"should", Json::array({{{"terms", {{"status", states}}}}})}}}}})},
          {"must_not", {{"term", {{"uuid", uuid}}}}}}}}}};
  return query;
}

Status DuplicateFromResponse(const Json& response, std::optional<DuplicateJob>* found) {
  found->reset();
  const Json* total = FindPath(response, {"hits", "total"});
  if (total != nullptr && total->is_object()) total = FindPath(*total, {"value"});
  if (total == nullptr || !total->is_number_integer())
    return Status::Invalid("expected hits.total (a number, or {\"value\": n}) in the answer");
  if (total->get<int64_t>() == 0) return Status::OK();
  const Json* hits = FindPath(response, {"hits", "hits"});
  if (hits == nullptr || !hits->is_array() || hits->empty() || !(*hits)[0].is_object())
    return Status::Invalid("hits.total is not 0 but hits.hits has no hit");
  const Json& hit = (*hits)[0];
  const Json* id = FindPath(hit, {"_id"});
  const Json* status = FindPath(hit, {"_source", "status"});
  if (id == nullptr || !id->is_string() || status == nullptr || !status->is_string())
    return Status::Invalid("the hit has no _id or _source.status");
  *found = DuplicateJob{id->get<std::string>(), status->get<std::string>()};
  return Status::OK();
}

void JobDedup::MarkPayloadHash(const std::string& payload_hash) {
  if (s_.redis_url.empty()) return;
  std::lock_guard<std::mutex> lock(redis_mu_);
  RedisUrl url;
  Status st = ParseRedisUrl(s_.redis_url, &url);
  RedisReply reply;
  for (int attempt = 0; st.ok() && attempt < 2; ++attempt) {
    if (!redis_.connected()) st = redis_.Connect(url, RedisTls{}, std::chrono::seconds(2));
    if (st.ok())
      st = redis_.Command({"SET", "hysds-payload-hash-" + payload_hash, payload_hash, "EX",
                           std::to_string(kPayloadHashTtlSeconds), "NX"},
                          &reply);
    if (st.ok()) break;
  }
  if (st.ok() && reply.type == RedisReply::Type::kError) st = Status::Failed(reply.str);
  if (!st.ok()) {
    if (!redis_warned_)
      LogWarning("dedup: hysds-payload-hash-{} not set: {}", payload_hash, st.message());
    redis_warned_ = true;
    return;
  }
  redis_warned_ = false;
  LogInfo("dedup: payload hash {} {} on Redis", payload_hash,
          reply.type == RedisReply::Type::kNil ? "already exists" : "did not exist");
}

Status JobDedup::Search(const std::string& base, const std::string& body, long* code,
                        std::string* response) {
  std::string url_text = base;
  while (!url_text.empty() && url_text.back() == '/') url_text.pop_back();
  url_text += fmt::format("/{}/_search?{}", kIndex, kSearchParams);
  localize::Url url;
  VERDI_RETURN_IF_ERROR(localize::ParseUrl(url_text, &url).WithPrefix("JOBS_ES_URL"));
  if (url.scheme != localize::Scheme::kHttp && url.scheme != localize::Scheme::kHttps)
    return Status::Invalid("JOBS_ES_URL: expected an http(s) URL, got " + RedactUrls(base));
  CURL* e = curl_easy_init();
  if (e == nullptr) return Status::Failed("curl_easy_init failed");
  localize::TransferHeaders headers;
  headers.Add("Content-Type: application/json");
  Status st = localize::ConfigureTransfer(e, url, s_.transfer, &headers);
  std::string userpwd, sigv4;
  if (st.ok() && (s_.aws_es || url.host.find("es.amazonaws.com") != std::string::npos)) {
    localize::AwsCredentials creds;
    st = localize::LoadAwsCredentials("", &creds);
    if (st.ok() && !creds.empty()) {
      std::string region = RegionOfEsHost(url.host);
      sigv4 = "aws:amz:" + (region.empty() ? creds.region : region) + ":es";
      userpwd = creds.access_key_id + ":" + creds.secret_access_key;
      curl_easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4.c_str());
      curl_easy_setopt(e, CURLOPT_USERPWD, userpwd.c_str());
      if (!creds.session_token.empty()) {
        headers.Add("x-amz-security-token: " + creds.session_token);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.list());
      }
    }
  } else if (st.ok() && url.user.empty()) {
    std::string login, password;
    if (!s_.netrc_file.empty() && NetrcDefault(s_.netrc_file, &login, &password)) {
      curl_easy_setopt(e, CURLOPT_USERNAME, login.c_str());
      curl_easy_setopt(e, CURLOPT_PASSWORD, password.c_str());
    }
  }
  if (!st.ok()) {
    curl_easy_cleanup(e);
    return st;
  }
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT, static_cast<long>(s_.request_timeout.count()));
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, response);
  CURLcode rc = curl_easy_perform(e);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, code);
  curl_easy_cleanup(e);
  if (rc != CURLE_OK)
    return Status::Failed(fmt::format("{}: {}", RedactUrls(url_text), curl_easy_strerror(rc)));
  return Status::OK();
}

Status JobDedup::FindDuplicate(const std::string& payload_hash, const std::string& task_id,
                               std::optional<DuplicateJob>* found) {
  found->reset();
  MarkPayloadHash(payload_hash);
  std::string body = DedupQuery(payload_hash, task_id, {"job-started", "job-completed"}).dump();
  std::string why = "no JOBS_ES_URL";
  for (const std::string& base : s_.es_urls) {
    double backoff = 1;
    for (int attempt = 1; attempt <= std::max(1, s_.tries); ++attempt) {
      long code = 0;
      std::string response;
      Status st = Search(base, body, &code, &response);
      if (st.IsInvalid()) return st;
      std::string where = RedactUrls(base) + "/" + kIndex;
      if (st.ok() && code == 404) {
        LogInfo("dedup: {} does not exist: no duplicate of payload hash {}", where, payload_hash);
        return Status::OK();
      }
      if (st.ok() && code >= 200 && code < 300) {
        Json answer;
        VERDI_RETURN_IF_ERROR(ParseJsonText(response, where, &answer));
        return DuplicateFromResponse(answer, found).WithPrefix("dedup: " + where);
      }
      why = st.ok() ? fmt::format("{}: HTTP {}: {}", where, code, response.substr(0, 300))
                    : st.message();
      if (st.ok() && code < 500) break;  // refused: another try would be refused too
      if (attempt < s_.tries) {
        std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
        backoff *= 2;
      }
    }
  }
  return Status::Failed("dedup: searching the job-status index: " + why);
}

}  // namespace verdi
