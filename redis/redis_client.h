// A small blocking Redis client: one connection over a NetStream (TCP or
// TLS), RESP parsed by hiredis's reply reader, commands formatted by hiredis.
// (Debian 12's hiredis 0.14 has no TLS, so the socket I/O is ours.)
#pragma once

#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "redis/net_stream.h"
#include "redis/redis_url.h"

struct redisReader;

namespace verdi {

/// One reply of the server. Strings are binary-safe (`str` may hold NULs).
struct RedisReply {
  enum class Type { kString, kStatus, kInteger, kNil, kArray, kError };
  Type type = Type::kNil;
  std::string str;                   // kString, kStatus ("OK"), kError ("WRONGTYPE ...")
  long long integer = 0;             // kInteger
  std::vector<RedisReply> elements;  // kArray
};

/// Whether an error reply is about the server's state rather than the
/// command, so that a new connection and a later try may succeed: LOADING,
/// READONLY (a replica, e.g. after a failover), MASTERDOWN, BUSY (a script),
/// TRYAGAIN, CLUSTERDOWN, NOAUTH (a server restarted with a password),
/// MISCONF (snapshots failing) and OOM (maxmemory reached). Any other error
/// (WRONGTYPE, ERR ...) would fail again. Matches the first word exactly.
bool IsTransientRedisError(const std::string& error_reply);

/// TLS settings that do not fit in a URL (the worker's config). The URL's
/// ssl_ca_certs / ssl_certfile / ssl_keyfile, when given, win over these.
/// Appends the RESP bytes of one command (binary-safe arguments) to `*out`.
void AppendRedisCommand(std::initializer_list<std::string_view> argv, std::string* out);

struct RedisTls {
  /// PEM file of the CAs to trust; empty: the system's default CAs.
  std::string ca_file;
  /// Client certificate chain and key (PEM), for servers that ask for one.
  std::string cert_file;
  std::string key_file;
};

/// One connection to a Redis server. Every call blocks until done or until
/// the timeout given to Connect has passed.
///
/// NOT thread-safe: one thread at a time (callers share it under a mutex).
///
/// A Redis error reply ("-ERR ...") is a reply of type kError with an OK
/// Status. A socket error, a timeout, a TLS error or a protocol error is an
/// IOError and closes the connection (connected() turns false); Connect
/// again to go on.
class RedisClient {
 public:
  RedisClient();
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  /// Connects (closing any previous connection), does the TLS handshake for
  /// rediss:// (SNI, and certificate plus host name checks unless
  /// url.verify_peer is false), then AUTH [user] password when the URL has a
  /// password and SELECT db when db != 0. `timeout` bounds the whole connect
  /// and, afterwards, each Command, Pipeline and Receive call.
  /// A refused AUTH or SELECT is Failed and leaves the client closed; a
  /// failed TCP connect is ConnectTcp's error after "redis: " ("redis:
  /// connect to host:port: Connection refused").
  Status Connect(const RedisUrl& url, const RedisTls& tls, std::chrono::milliseconds timeout);

  /// Sends one command (binary-safe arguments) and reads its reply.
  Status Command(const std::vector<std::string>& argv, RedisReply* reply);

  /// Writes all commands, then reads one reply per command, in order.
  Status Pipeline(const std::vector<std::vector<std::string>>& commands,
                  std::vector<RedisReply>* replies);

  /// The same for `count` commands already in RESP (AppendRedisCommand).
  Status SendEncoded(const std::string& bytes, size_t count, std::vector<RedisReply>* replies);

  /// Reads the next reply without sending anything: for the messages of a
  /// SUBSCRIBE. A timeout is an IOError like any other and closes the client.
  Status Receive(RedisReply* reply);

  bool connected() const { return stream_.open(); }
  /// "host:port", for messages.
  const std::string& endpoint() const { return endpoint_; }

  /// Drops the connection (no QUIT). Safe to call when not connected.
  void Close();

 private:
  using Clock = NetStream::Clock;

  Status Authenticate(const RedisUrl& url, Clock::time_point deadline);
  /// Reads one reply, feeding the reader from the stream as needed.
  Status ReadReply(RedisReply* reply, Clock::time_point deadline);
  /// Closes the client when `status` is an error; returns it.
  Status Check(Status status);

  NetStream stream_;
  redisReader* reader_ = nullptr;
  std::string endpoint_;
  std::chrono::milliseconds timeout_{5000};
};

}  // namespace verdi
