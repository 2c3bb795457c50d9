// The input cache (§3.1, §4.2): cache/<h0>/<h1>/<h2>/<h3>/<md5(url)>/<basename>,
// complete once `.localized` is there; and localizing a job's inputs with it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "jobspec/status.h"
#include "localize/fetch.h"

namespace verdi::localize {

/// The cache entry directory of `url` under `cache_root`.
std::filesystem::path CacheEntryDir(const std::filesystem::path& cache_root,
                                    const std::string& url);

struct LocalizeItem {
  std::string url;
  std::filesystem::path dest;  // from Destination()
  bool cache = true;
};

/// Localizes every item. Cached items: the entry is filled at most once
/// (an flock on `<entry>.lock` makes concurrent jobs wait; the download goes
/// to a temp dir next to the entry, `.localized` is renamed into it last,
/// then the dir is renamed into place) and `dest` becomes a symlink to the
/// cached file. Other items are downloaded straight to `dest`. Downloads run
/// in parallel through FetchAll. `results` gets one entry per item (a cache
/// hit: tries 0, the cached size).
Status LocalizeAll(const std::vector<LocalizeItem>& items, const std::filesystem::path& cache_root,
                   const FetchOptions& opts, std::vector<FetchResult>* results);

}  // namespace verdi::localize
