#include "localize/azure_list.h"

#include "localize/transfer.h"
#include "localize/xml_text.h"

namespace verdi::localize {

Status ParseListBlobs(const std::string& xml, AzureListPage* page) {
  *page = AzureListPage();
  size_t root = xml.find("<EnumerationResults");
  if (root == std::string::npos) return Status::Invalid("not an EnumerationResults");
  for (const std::string& blob : XmlElements(xml, "Blob", root)) {
    std::vector<std::string> name = XmlElements(blob, "Name");
    if (name.size() != 1) return Status::Invalid("a <Blob> without one <Name>");
    page->names.push_back(DecodeXmlEntities(name[0]));
  }
  std::vector<std::string> next = XmlElements(xml, "NextMarker", root);
  if (!next.empty()) page->next_marker = DecodeXmlEntities(next.back());
  return Status::OK();
}

std::string ListBlobsQuery(const std::string& prefix, const std::string& marker, int max_results) {
  std::string q = "restype=container&comp=list";
  if (!prefix.empty()) q += "&prefix=" + EncodeQueryValue(prefix);
  if (!marker.empty()) q += "&marker=" + EncodeQueryValue(marker);
  if (max_results > 0) q += "&maxresults=" + std::to_string(max_results);
  return q;
}

}  // namespace verdi::localize
