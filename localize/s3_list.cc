#include "localize/s3_list.h"

#include "localize/transfer.h"
#include "localize/xml_text.h"

namespace verdi::localize {

Status ParseListObjectsV2(const std::string& xml, S3ListPage* page) {
  *page = S3ListPage();
  size_t root = xml.find("<ListBucketResult");
  if (root == std::string::npos) return Status::Invalid("not a ListBucketResult");
  for (const std::string& contents : XmlElements(xml, "Contents", root)) {
    std::vector<std::string> key = XmlElements(contents, "Key");
    if (key.size() != 1) return Status::Invalid("a <Contents> without one <Key>");
    page->keys.push_back(DecodeXmlEntities(key[0]));
  }
  // The top-level flags: outside any <Contents>.
  std::string top = xml.substr(root);
  for (size_t a; (a = top.find("<Contents>")) != std::string::npos;) {
    size_t b = top.find("</Contents>", a);
    if (b == std::string::npos) return Status::Invalid("an unclosed <Contents>");
    top.erase(a, b + 11 - a);
  }
  std::vector<std::string> truncated = XmlElements(top, "IsTruncated");
  page->truncated = !truncated.empty() && truncated[0] == "true";
  std::vector<std::string> token = XmlElements(top, "NextContinuationToken");
  if (!token.empty()) page->next_token = DecodeXmlEntities(token[0]);
  if (page->truncated && page->next_token.empty())
    return Status::Invalid("a truncated listing without NextContinuationToken");
  return Status::OK();
}

std::string ListObjectsQuery(const std::string& prefix, const std::string& token, int max_keys) {
  std::string q;
  if (!token.empty()) q += "continuation-token=" + EncodeQueryValue(token) + "&";
  q += "list-type=2&";
  if (max_keys > 0) q += "max-keys=" + std::to_string(max_keys) + "&";
  q += "prefix=" + EncodeQueryValue(prefix);
  return q;
}

}  // namespace verdi::localize
