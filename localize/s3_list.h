// S3 prefixes ("directories"): ListObjectsV2 requests and their answers.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"
#include "localize/transfer.h"
#include "localize/url.h"

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

/// The path under the destination of object `key` listed under `prefix`:
/// false when the key does not start with the prefix or would land outside
/// the destination (empty, "." or ".." segments).
bool RelativeObjectPath(const std::string& key, const std::string& prefix,
                        std::filesystem::path* rel);

/// Every key under `prefix` (decoded, "" for the whole bucket) in the
/// bucket of the S3 URL `url`, following continuation tokens; blocking.
/// Transient failures are tried again, up to `tries` in all. `max_keys`
/// (pages of that many keys) is for tests.
Status ListS3Prefix(const Url& url, const std::string& prefix, const TransferSettings& settings,
                    int tries, std::vector<std::string>* keys, int max_keys = 0);

}  // namespace verdi::localize
