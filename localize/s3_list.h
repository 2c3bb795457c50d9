// S3's listings (ListObjectsV2): the query of a request, and its answer.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace verdi::localize {

struct S3ListPage {
  std::vector<std::string> keys;  // XML entities decoded
  bool truncated = false;
  std::string next_token;
};

/// Reads a ListObjectsV2 answer (<ListBucketResult>): the <Key> of each
/// <Contents>, <IsTruncated>, <NextContinuationToken>. Only those elements
/// are looked at; anything that is not a ListBucketResult is Invalid.
Status ParseListObjectsV2(const std::string& xml, S3ListPage* page);

/// The query of a ListObjectsV2 request, its parameters in the order and
/// encoding SigV4 signs them in.
/// max_keys 0: the server's default (1000).
std::string ListObjectsQuery(const std::string& prefix, const std::string& token, int max_keys = 0);

}  // namespace verdi::localize
