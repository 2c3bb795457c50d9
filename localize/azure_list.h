// Azure's listings (List Blobs): the query of a request, and its answer.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace verdi::localize {

struct AzureListPage {
  std::vector<std::string> names;  // of the blobs, XML entities decoded
  std::string next_marker;         // "" on the last page
};

/// Reads a List Blobs answer (<EnumerationResults>): the <Name> of each
/// <Blob>, and <NextMarker>. Anything else is Invalid.
Status ParseListBlobs(const std::string& xml, AzureListPage* page);

/// The query of a List Blobs request of a container
/// (restype=container&comp=list...); max_results 0: the server's default
/// (5000).
std::string ListBlobsQuery(const std::string& prefix, const std::string& marker,
                           int max_results = 0);

}  // namespace verdi::localize
