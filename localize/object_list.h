// Object-store prefixes ("directories"): every key under one, listed with
// the store's own API (S3's ListObjectsV2, Azure's List Blobs), and the rule
// that keeps the keys inside the destination they are fetched into.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"
#include "localize/transfer.h"
#include "localize/url.h"

namespace verdi::localize {

/// The path under the destination of object `key` listed under `prefix`:
/// false when the key does not start with the prefix or would land outside
/// the destination (empty, "." or ".." segments).
bool RelativeObjectPath(const std::string& key, const std::string& prefix,
                        std::filesystem::path* rel);

/// Every key under `prefix` (decoded, "" for the whole bucket) in the
/// bucket (container) of the object-store URL `url`, following
/// continuation tokens (markers); blocking. Transient failures are tried
/// again, up to `tries` in all. `page_size` (keys per page) is for tests.
/// Errors name the redacted URL and the store's error code.
Status ListPrefix(const Url& url, const std::string& prefix, const TransferSettings& settings,
                  int tries, std::vector<std::string>* keys, int page_size = 0);

}  // namespace verdi::localize
