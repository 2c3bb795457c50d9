#include "localize/object_list.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "localize/azure_list.h"
#include "localize/retry.h"
#include "localize/s3_list.h"
#include "localize/xml_text.h"

namespace verdi::localize {
namespace {

size_t AppendBody(char* data, size_t size, size_t n, void* userp) {
  auto* body = static_cast<std::string*>(userp);
  if (body->size() > (64u << 20)) return 0;  // no listing page is that big
  body->append(data, size * n);
  return size * n;
}

// One page of the listing: its keys, and the token of the next ("" when
// it is the last).
Status ParsePage(const Url& url, const std::string& body, std::vector<std::string>* keys,
                 std::string* next) {
  if (url.IsAzure()) {
    AzureListPage page;
    VERDI_RETURN_IF_ERROR(ParseListBlobs(body, &page));
    keys->insert(keys->end(), page.names.begin(), page.names.end());
    *next = page.next_marker;
    return Status::OK();
  }
  S3ListPage page;
  VERDI_RETURN_IF_ERROR(ParseListObjectsV2(body, &page));
  keys->insert(keys->end(), page.keys.begin(), page.keys.end());
  *next = page.truncated ? page.next_token : "";
  return Status::OK();
}

}  // namespace

bool RelativeObjectPath(const std::string& key, const std::string& prefix,
                        std::filesystem::path* rel) {
  rel->clear();
  if (key.size() <= prefix.size() || key.compare(0, prefix.size(), prefix) != 0) return false;
  std::string rest = key.substr(prefix.size());
  size_t start = 0;
  for (;;) {
    size_t slash = rest.find('/', start);
    std::string seg =
        rest.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") {
      rel->clear();
      return false;
    }
    *rel /= seg;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

Status ListPrefix(const Url& url, const std::string& prefix, const TransferSettings& settings,
                  int tries, std::vector<std::string>* keys, int page_size) {
  keys->clear();
  std::string token;
  CURL* e = curl_easy_init();
  if (!e) return Status::Failed("curl_easy_init failed");
  Status st;
  for (;;) {
    Url list_url;
    st = ParseUrl(url.BucketUrl(url.IsAzure() ? ListBlobsQuery(prefix, token, page_size)
                                              : ListObjectsQuery(prefix, token, page_size)),
                  &list_url);
    if (!st.ok()) break;
    std::string body;
    long http = 0;
    CURLcode code = CURLE_OK;
    TransferHeaders headers;
    for (int attempt = 1; attempt <= std::max(1, tries); ++attempt) {
      curl_easy_reset(e);
      headers.Clear();
      st = ConfigureTransfer(e, list_url, settings, &headers);
      if (!st.ok()) break;
      body.clear();
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, AppendBody);
      curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
      code = curl_easy_perform(e);
      http = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &http);
      if (!IsTransientTransfer(code, http, TransferDirection::kDownload)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    }
    if (!st.ok()) break;
    if (code != CURLE_OK) {
      st = Status::Failed("listing " + url.Redacted() + ": " + curl_easy_strerror(code));
      break;
    }
    if (http != 200) {
      std::vector<std::string> codes = XmlElements(body, "Code");
      st = Status::Failed("listing " + url.Redacted() + ": HTTP " + std::to_string(http) +
                          (codes.empty() ? "" : " " + codes[0]) + headers.CredentialsNote(http));
      break;
    }
    st = ParsePage(url, body, keys, &token);
    if (!st.ok()) {
      st = Status::Failed("listing " + url.Redacted() + ": " + st.message());
      break;
    }
    if (token.empty()) break;
  }
  curl_easy_cleanup(e);
  return st;
}

}  // namespace verdi::localize
