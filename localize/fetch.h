// Downloads over libcurl's multi interface (http, https, dav, davs, ftp,
// sftp, s3, s3s, gs, azure, azures) and copies of file:// URLs, with bounded parallelism, timeouts,
// retries, progress lines and cancellation.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "localize/local_copy.h"
#include "localize/transfer.h"

namespace verdi::localize {

struct FetchItem {
  std::string url;             // may hold credentials: never printed as is
  std::filesystem::path dest;  // the file (or directory, for a file:// dir
                               // or an S3 prefix) to create
};

struct FetchOptions {
  int parallel = 8;            // transfers at once
  int tries = 6;               // in total, like HySDS
  double backoff_seconds = 5;  // before the 2nd try; doubles each time, capped at 60 s
  /// Timeouts, .netrc, TLS, BUCKET_PROFILES: see transfer.h.
  TransferSettings transfer;
  /// A progress line for each transfer still running, this often (0: none).
  double progress_seconds = 30;
  /// Polled at least every 100 ms while transfers run; once it returns
  /// true, every transfer stops and FetchAll returns Status::Failed
  /// ("cancelled"). May be empty.
  std::function<bool()> cancelled;
  /// Retries and failures; every URL in them is redacted.
  std::function<void(const std::string&)> log;
  /// file:// inputs (local_copy.h): each source, and each file and
  /// directory under one, is checked once open and before it is read;
  /// LocalizeAll also checks a source whose cache entry is complete.
  /// Empty: whatever the worker can read (a job on the host).
  LocalSourceCheck local_source_check;
  /// One line per file started and finished (size, duration, rate) and the
  /// periodic progress lines; every URL in them is redacted. May be empty.
  std::function<void(const std::string&)> progress;
};

struct FetchResult {
  Status status;
  uint64_t bytes = 0;  // of the file, or all files of a directory
  int tries = 0;       // of the file (the most any file of a directory took)
  std::chrono::system_clock::time_point time_start, time_end;
  double seconds() const { return std::chrono::duration<double>(time_end - time_start).count(); }
};

/// Bytes of a file, or of the regular files under a directory.
uint64_t TreeBytes(const std::filesystem::path& p);

/// "12.3 MB" style (powers of 1000), for progress lines.
std::string HumanBytes(double bytes);

/// Fetches every item into its dest (each file written as `<file>.part`,
/// renamed at the end; parent directories are created). An object-store
/// URL (s3, gs, azure) whose key is empty or ends in '/' is a prefix: every
/// object under it is fetched into dest/<rest of the key>; one that answers
/// 404 is tried as a prefix too (key + '/') before it counts as not found.
/// Keys that would land outside dest ("..", ".", empty segments) fail. Transient failures
/// (5xx, 429, timeouts, connection errors) are retried with backoff; others
/// (404, 403, 401, a missing file) fail at once. On the first failure (or
/// cancellation) no new transfer starts, the running ones are stopped, and
/// its status is returned (naming the redacted URL, and after an object
/// store's 401 or 403 the credentials it refused). `results` gets one
/// entry per item.
Status FetchAll(const std::vector<FetchItem>& items, const FetchOptions& opts,
                std::vector<FetchResult>* results);

}  // namespace verdi::localize
