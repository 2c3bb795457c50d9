// Celery's result backend: where the result document of each task goes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "redis/redis_client.h"

namespace verdi {

/// Where task results go (Celery's result_backend). Implementations are
/// thread-safe.
class ResultBackend {
 public:
  virtual ~ResultBackend() = default;
  /// Stores the result document `document` (Celery's result meta, built by
  /// the caller with EncodeResult, json or msgpack) for `task_id`, unless a
  /// SUCCESS is already stored for it, in either serializer (Celery's guard).
  /// `expires_seconds` <= 0: no expiry.
  virtual Status Store(const std::string& task_id, const std::string& document,
                       int64_t expires_seconds) = 0;
  /// Store with one try only, for a caller that retries on its own.
  virtual Status StoreOnce(const std::string& task_id, const std::string& document,
                           int64_t expires_seconds) = 0;
  /// Reads the stored document; *found=false when there is none.
  virtual Status Get(const std::string& task_id, std::string* document, bool* found) = 0;
};

/// How the Redis backend connects and retries.
struct RedisResultBackendOptions {
  /// Tries per Store or Get, the first one included.
  int max_attempts = 10;
  /// Wait after the first failed try; doubled after each, up to max_backoff.
  std::chrono::milliseconds first_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  /// Bounds a connect and each round trip.
  std::chrono::milliseconds timeout{5000};
  RedisTls tls;
};

/// redis:// or rediss:// backend: GET celery-task-meta-<id>; if its "status"
/// is SUCCESS do nothing; else a MULTI-less pipeline of SETEX (SET when no
/// expiry) and PUBLISH of the same key and value. Connects on first use and
/// reconnects on failure: a connection failure, a socket error or a transient
/// error reply (IsTransientRedisError: LOADING, READONLY, ...) is retried
/// with capped exponential backoff, each failed attempt logged with the
/// redacted URL and the reason.
/// A bad URL is Invalid here; an unreachable server is not (checked on use).
Status MakeRedisResultBackend(const std::string& url, std::unique_ptr<ResultBackend>* out);
Status MakeRedisResultBackend(const std::string& url, const RedisResultBackendOptions& options,
                              std::unique_ptr<ResultBackend>* out);

}  // namespace verdi
