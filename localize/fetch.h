// Downloads over libcurl's multi interface (http, https, ftp) and copies of
// file:// URLs, with bounded parallelism, timeouts and retries.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "jobspec/status.h"

namespace verdi::localize {

struct FetchItem {
  std::string url;             // may hold credentials: never printed as is
  std::filesystem::path dest;  // the file (or directory, for a file:// dir) to create
};

struct FetchOptions {
  int parallel = 4;            // transfers at once
  int tries = 6;               // in total, like HySDS
  double backoff_seconds = 5;  // before the 2nd try; doubles each time, capped at 60 s
  long connect_timeout_seconds = 30;
  /// A transfer slower than stall_bytes_per_second for stall_seconds fails
  /// (and is retried).
  long stall_seconds = 60;
  long stall_bytes_per_second = 1;
  bool use_netrc = false;  // CURLOPT_NETRC optional (~/.netrc or $NETRC)
  bool verify_tls = true;
  /// Progress lines (retries); every URL in them is redacted.
  std::function<void(const std::string&)> log;
};

struct FetchResult {
  Status status;
  uint64_t bytes = 0;  // of the file, or all files of a directory
  int tries = 0;
  std::chrono::system_clock::time_point time_start, time_end;
  double seconds() const { return std::chrono::duration<double>(time_end - time_start).count(); }
};

/// Bytes of a file, or of the regular files under a directory.
uint64_t TreeBytes(const std::filesystem::path& p);

/// Fetches every item into its dest (written as `<dest>.part`, renamed at
/// the end; parent directories are created). Transient failures (5xx, 429,
/// timeouts, connection errors) are retried with backoff; others (404, 403,
/// 401, a missing file) fail at once. On the first failure no new transfer
/// starts, the running ones are stopped, and its status is returned (naming
/// the redacted URL). `results` gets one entry per item.
Status FetchAll(const std::vector<FetchItem>& items, const FetchOptions& opts,
                std::vector<FetchResult>* results);

}  // namespace verdi::localize
