#include "localize/s3_list.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "localize/retry.h"

namespace verdi::localize {
namespace {

// The text of each <tag>...</tag> in `xml` from `from` to `to`.
std::vector<std::string> Elements(const std::string& xml, const std::string& tag, size_t from = 0,
                                  size_t to = std::string::npos) {
  std::vector<std::string> out;
  std::string open = "<" + tag + ">", close = "</" + tag + ">";
  if (to == std::string::npos) to = xml.size();
  for (size_t pos = xml.find(open, from); pos != std::string::npos && pos < to;
       pos = xml.find(open, pos)) {
    size_t start = pos + open.size();
    size_t end = xml.find(close, start);
    if (end == std::string::npos || end > to) break;
    out.push_back(xml.substr(start, end - start));
    pos = end + close.size();
  }
  return out;
}

// &amp; &lt; &gt; &quot; &apos; &#N; &#xN; (ASCII only; others kept).
std::string DecodeEntities(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    size_t semi = s[i] == '&' ? s.find(';', i) : std::string::npos;
    if (semi == std::string::npos || semi - i > 8) {
      out += s[i];
      continue;
    }
    std::string name = s.substr(i + 1, semi - i - 1);
    char c = 0;
    if (name == "amp")
      c = '&';
    else if (name == "lt")
      c = '<';
    else if (name == "gt")
      c = '>';
    else if (name == "quot")
      c = '"';
    else if (name == "apos")
      c = '\'';
    else if (name.size() > 1 && name[0] == '#') {
      long v = name[1] == 'x' ? std::strtol(name.c_str() + 2, nullptr, 16)
                              : std::strtol(name.c_str() + 1, nullptr, 10);
      if (v > 0 && v < 128) c = static_cast<char>(v);
    }
    if (c == 0) {
      out += s[i];
      continue;
    }
    out += c;
    i = semi;
  }
  return out;
}

size_t AppendBody(char* data, size_t size, size_t n, void* userp) {
  auto* body = static_cast<std::string*>(userp);
  if (body->size() > (64u << 20)) return 0;  // no listing page is that big
  body->append(data, size * n);
  return size * n;
}

}  // namespace

Status ParseListObjectsV2(const std::string& xml, S3ListPage* page) {
  *page = S3ListPage();
  size_t root = xml.find("<ListBucketResult");
  if (root == std::string::npos) return Status::Invalid("not a ListBucketResult");
  for (const std::string& contents : Elements(xml, "Contents", root)) {
    std::vector<std::string> key = Elements(contents, "Key");
    if (key.size() != 1) return Status::Invalid("a <Contents> without one <Key>");
    page->keys.push_back(DecodeEntities(key[0]));
  }
  // The top-level flags: outside any <Contents>.
  std::string top = xml.substr(root);
  for (size_t a; (a = top.find("<Contents>")) != std::string::npos;) {
    size_t b = top.find("</Contents>", a);
    if (b == std::string::npos) return Status::Invalid("an unclosed <Contents>");
    top.erase(a, b + 11 - a);
  }
  std::vector<std::string> truncated = Elements(top, "IsTruncated");
  page->truncated = !truncated.empty() && truncated[0] == "true";
  std::vector<std::string> token = Elements(top, "NextContinuationToken");
  if (!token.empty()) page->next_token = DecodeEntities(token[0]);
  if (page->truncated && page->next_token.empty())
    return Status::Invalid("a truncated listing without NextContinuationToken");
  return Status::OK();
}

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

std::string ListObjectsQuery(const std::string& prefix, const std::string& token, int max_keys) {
  auto enc = [](const std::string& s) {
    std::string e = EncodeS3Key(s);
    std::string out;
    for (char c : e) out += c == '/' ? std::string("%2F") : std::string(1, c);
    return out;
  };
  std::string q;
  if (!token.empty()) q += "continuation-token=" + enc(token) + "&";
  q += "list-type=2&";
  if (max_keys > 0) q += "max-keys=" + std::to_string(max_keys) + "&";
  q += "prefix=" + enc(prefix);
  return q;
}

Status ListS3Prefix(const Url& url, const std::string& prefix, const TransferSettings& settings,
                    int tries, std::vector<std::string>* keys, int max_keys) {
  keys->clear();
  std::string token;
  CURL* e = curl_easy_init();
  if (!e) return Status::Failed("curl_easy_init failed");
  Status st;
  for (;;) {
    std::string base = url.original.substr(0, url.original.find("://") + 3);
    if (!url.user.empty()) {
      size_t at = url.original.find('@', base.size());
      base = url.original.substr(0, at + 1);
    }
    Url list_url;
    st = ParseUrl(
        base + url.host + "/" + url.Bucket() + "?" + ListObjectsQuery(prefix, token, max_keys),
        &list_url);
    if (!st.ok()) break;
    std::string body;
    long http = 0;
    CURLcode code = CURLE_OK;
    for (int attempt = 1; attempt <= std::max(1, tries); ++attempt) {
      curl_easy_reset(e);
      TransferHeaders headers;
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
      std::vector<std::string> codes = Elements(body, "Code");
      st = Status::Failed("listing " + url.Redacted() + ": HTTP " + std::to_string(http) +
                          (codes.empty() ? "" : " " + codes[0]));
      break;
    }
    S3ListPage page;
    st = ParseListObjectsV2(body, &page);
    if (!st.ok()) {
      st = Status::Failed("listing " + url.Redacted() + ": " + st.message());
      break;
    }
    keys->insert(keys->end(), page.keys.begin(), page.keys.end());
    if (!page.truncated) break;
    token = page.next_token;
  }
  curl_easy_cleanup(e);
  return st;
}

}  // namespace verdi::localize
