// The input cache: cache/<h0>/<h1>/<h2>/<h3>/<md5(url)>/<basename>,
// complete once `.localized` is there; and localizing a job's inputs with it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"
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

/// Cache entries a job uses, shared-locked until this is destroyed: the
/// scrubber never evicts them meanwhile.
class CacheHolds {
 public:
  CacheHolds() = default;
  CacheHolds(const CacheHolds&) = delete;
  CacheHolds& operator=(const CacheHolds&) = delete;
  ~CacheHolds();
  void Add(int fd) { fds_.push_back(fd); }
  size_t size() const { return fds_.size(); }

 private:
  std::vector<int> fds_;
};

/// The exclusive lock of a cache entry (`<entry>.lock`), tried without
/// waiting: held() is false while a job fills the entry or holds it.
/// Eviction removes an entry only under this lock.
class CacheEntryLock {
 public:
  explicit CacheEntryLock(const std::filesystem::path& entry_dir);
  CacheEntryLock(const CacheEntryLock&) = delete;
  CacheEntryLock& operator=(const CacheEntryLock&) = delete;
  ~CacheEntryLock();
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

/// Makes the cache entry `entry_dir` incomplete (its `.localized` removed,
/// the entry dir made writable for that), so that no job takes it while it
/// is being removed. Call under CacheEntryLock.
Status UnmarkCacheEntry(const std::filesystem::path& entry_dir);

/// Localizes every item; items[i] is localize_urls[i] in messages. Before
/// anything is fetched, an item whose dest is that of another item, or lies
/// below the dest of a cached item (a link into the cache), is refused:
/// the job would write into the cache entry. Cached items: the entry is filled at most once
/// (an flock on `<entry>.lock`, shared to look and use, exclusive to fill,
/// makes concurrent jobs wait, cancellably; the download goes
/// to a temp dir next to the entry, `.localized` is renamed into it last,
/// then the dir is renamed into place) and `dest` becomes a symlink to the
/// cached file. A complete entry is read-only (files 0444, dirs 0555), its
/// input datasets marked `.localized` (mark_datasets.h) before that. Other items are downloaded
/// straight to `dest`. Downloads run in parallel through FetchAll. `results` gets one entry per
/// item (a cache hit: tries 0, the cached size, timed from the start of the call). With `holds`,
/// the entries stay shared-locked in it after a success.
Status LocalizeAll(const std::vector<LocalizeItem>& items, const std::filesystem::path& cache_root,
                   const FetchOptions& opts, std::vector<FetchResult>* results,
                   CacheHolds* holds = nullptr);

}  // namespace verdi::localize
