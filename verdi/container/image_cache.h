// Container image tarballs downloaded from URLs, kept under
// <root>/cache/images so that a worker downloads each one once and loads it
// as often as the engine needs it (build once, run many), within a size
// bound, least recently used first out.
//
// Layout: images/<md5(url)>/ holds the tarball (the URL's basename), `.sha256`
// (its digest, computed when it was downloaded) and `.localized` (written
// last; its mtime is the entry's last use). `images/<md5(url)>.lock` is
// flocked while an entry is filled, used or evicted (localize::CacheEntryLock
// is how eviction, here and in the scrubber, tries it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "localize/fetch.h"

namespace verdi {

/// A cache entry in use: its lock is held until this is destroyed, so it is
/// never evicted meanwhile.
class ImageTarball {
 public:
  ImageTarball() = default;
  ImageTarball(const ImageTarball&) = delete;
  ImageTarball& operator=(const ImageTarball&) = delete;
  ImageTarball(ImageTarball&& other) noexcept { *this = std::move(other); }
  ImageTarball& operator=(ImageTarball&& other) noexcept;
  ~ImageTarball() { Release(); }

  const std::filesystem::path& file() const { return file_; }
  /// False when the tarball came from the cache.
  bool downloaded() const { return downloaded_; }
  /// Removes the entry (the engine could not load it): the next job
  /// downloads it again.
  void Discard();
  /// Unlocks the entry.
  void Release();

 private:
  friend Status GetImageTarball(const std::filesystem::path&, const std::string&,
                                const std::optional<std::string>&, const localize::FetchOptions&,
                                ImageTarball*);
  std::filesystem::path entry_, file_;
  int lock_fd_ = -1;
  bool downloaded_ = false;
};

/// The tarball at `url` (a network URL the localize layer fetches), from the
/// cache under `dir`, else downloaded into it through localize::FetchAll.
/// It must match `sha256` when that is given (hex, optionally "sha256:"
/// first), else the digest in `<url>.sha256` when that exists (fetched with
/// the tarball; its first word). A failed or mismatching download leaves
/// nothing in the cache. Concurrent callers for the same URL wait for each
/// other (flock), so it is downloaded once.
Status GetImageTarball(const std::filesystem::path& dir, const std::string& url,
                       const std::optional<std::string>& sha256, const localize::FetchOptions& opts,
                       ImageTarball* out);

/// Removes entries under `dir`, least recently used first, until the
/// complete ones take at most `max_bytes`. Entries whose lock is held (in
/// use, being filled) are never touched; unlocked leftovers of interrupted
/// downloads are removed. `removed` (may be null) gets the removed entries.
Status EvictImageTarballs(const std::filesystem::path& dir, uint64_t max_bytes,
                          std::vector<std::filesystem::path>* removed);

/// `expected` as a lower-case hex digest: blanks, a "sha256:" prefix and
/// anything after the first word dropped.
std::string NormalizeSha256(const std::string& expected);

}  // namespace verdi
