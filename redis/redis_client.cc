#include "redis/redis_client.h"

#include <cerrno>

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include "base/tcp_connect.h"

namespace verdi {
namespace {

RedisReply ConvertReply(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      break;
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  if (r->str != nullptr) out.str.assign(r->str, r->len);
  out.integer = r->integer;
  if (r->type == REDIS_REPLY_ARRAY) {
    out.elements.reserve(r->elements);
    for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(ConvertReply(r->element[i]));
  }
  return out;
}

/// One RESP bulk string.
void AppendBulk(std::string_view arg, std::string* out) {
  fmt::format_to(std::back_inserter(*out), "${}\r\n", arg.size());
  out->append(arg);
  out->append("\r\n");
}

/// The RESP bytes of one command.
void AppendCommand(const std::vector<std::string>& argv, std::string* out) {
  fmt::format_to(std::back_inserter(*out), "*{}\r\n", argv.size());
  for (const std::string& arg : argv) AppendBulk(arg, out);
}

}  // namespace

bool IsTransientRedisError(const std::string& error_reply) {
  std::string_view code = std::string_view(error_reply).substr(0, error_reply.find(' '));
  for (std::string_view transient : {"LOADING", "READONLY", "MASTERDOWN", "BUSY", "TRYAGAIN",
                                     "CLUSTERDOWN", "NOAUTH", "MISCONF", "OOM"}) {
    if (code == transient) return true;
  }
  return false;
}

void AppendRedisCommand(std::initializer_list<std::string_view> argv, std::string* out) {
  fmt::format_to(std::back_inserter(*out), "*{}\r\n", argv.size());
  for (std::string_view arg : argv) AppendBulk(arg, out);
}

RedisClient::RedisClient() = default;

RedisClient::~RedisClient() { Close(); }

void RedisClient::Close() {
  stream_.Close();
  if (reader_ != nullptr) redisReaderFree(reader_);
  reader_ = nullptr;
}

Status RedisClient::Check(Status status) {
  if (!status.ok()) Close();
  return status;
}

Status RedisClient::Connect(const RedisUrl& url, const RedisTls& tls,
                            std::chrono::milliseconds timeout) {
  Close();
  timeout_ = timeout;
  endpoint_ = HostPort(url.host, url.port);
  Clock::time_point deadline = Clock::now() + timeout;
  int fd = -1;
  Status connected = ConnectTcp(url.host, url.port, timeout, &fd);
  if (!connected.ok()) return connected.WithPrefix("redis");
  stream_.Open(fd, "redis " + endpoint_, timeout);
  reader_ = redisReaderCreate();
  if (reader_ == nullptr) return Check(Status::Failed("redis: out of memory"));
  if (url.tls) {
    TlsOptions options;
    options.server_name = url.host;
    options.verify_peer = url.verify_peer;
    options.ca_file = url.ca_file.empty() ? tls.ca_file : url.ca_file;
    options.cert_file = url.cert_file.empty() ? tls.cert_file : url.cert_file;
    options.key_file = url.key_file.empty() ? tls.key_file : url.key_file;
    Status st = stream_.StartTls(options, deadline);
    if (st.IsInvalid()) return Check(st.WithPrefix("redis " + endpoint_));
    VERDI_RETURN_IF_ERROR(Check(st));
  }
  return Authenticate(url, deadline);
}

Status RedisClient::Authenticate(const RedisUrl& url, Clock::time_point deadline) {
  std::vector<std::vector<std::string>> commands;
  if (!url.password.empty()) {
    commands.push_back({"AUTH"});
    if (!url.username.empty()) commands.back().push_back(url.username);
    commands.back().push_back(url.password);
  }
  if (url.db != 0) commands.push_back({"SELECT", std::to_string(url.db)});
  std::string bytes;
  for (const auto& argv : commands) AppendCommand(argv, &bytes);
  VERDI_RETURN_IF_ERROR(Check(stream_.WriteAll(bytes, deadline)));
  for (const auto& argv : commands) {
    RedisReply reply;
    VERDI_RETURN_IF_ERROR(ReadReply(&reply, deadline));
    if (reply.type != RedisReply::Type::kError) continue;
    // Never the arguments of AUTH: they hold the password.
    std::string what = argv[0] == "AUTH" ? "AUTH" : "SELECT " + argv[1];
    return Check(
        Status::Failed(fmt::format("redis {}: {} failed: {}", endpoint_, what, reply.str)));
  }
  return Status::OK();
}

Status RedisClient::Command(const std::vector<std::string>& argv, RedisReply* reply) {
  std::vector<RedisReply> replies;
  VERDI_RETURN_IF_ERROR(Pipeline({argv}, &replies));
  *reply = std::move(replies[0]);
  return Status::OK();
}

Status RedisClient::Pipeline(const std::vector<std::vector<std::string>>& commands,
                             std::vector<RedisReply>* replies) {
  std::string bytes;
  for (const auto& argv : commands) {
    if (argv.empty()) return Status::Invalid("redis command: empty");
    AppendCommand(argv, &bytes);
  }
  return SendEncoded(bytes, commands.size(), replies);
}

Status RedisClient::SendEncoded(const std::string& bytes, size_t count,
                                std::vector<RedisReply>* replies) {
  replies->clear();
  if (!connected()) {
    return Status::IOError(fmt::format("redis {}: not connected", endpoint_), ENOTCONN);
  }
  Clock::time_point deadline = Clock::now() + timeout_;
  VERDI_RETURN_IF_ERROR(Check(stream_.WriteAll(bytes, deadline)));
  replies->resize(count);
  for (RedisReply& reply : *replies) {
    Status read = ReadReply(&reply, deadline);
    if (!read.ok()) {
      replies->clear();
      return read;
    }
  }
  return Status::OK();
}

Status RedisClient::Receive(RedisReply* reply) {
  if (!connected()) {
    return Status::IOError(fmt::format("redis {}: not connected", endpoint_), ENOTCONN);
  }
  return ReadReply(reply, Clock::now() + timeout_);
}

Status RedisClient::ReadReply(RedisReply* reply, Clock::time_point deadline) {
  char buf[16384];
  while (true) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
      return Check(Status::IOError(
          fmt::format("redis {}: bad reply: {}", endpoint_, redisReaderGetError(reader_)), EPROTO));
    }
    if (raw != nullptr) {
      *reply = ConvertReply(static_cast<redisReply*>(raw));
      freeReplyObject(raw);
      return Status::OK();
    }
    size_t got = 0;
    VERDI_RETURN_IF_ERROR(Check(stream_.ReadSome(buf, sizeof buf, &got, deadline)));
    if (redisReaderFeed(reader_, buf, got) != REDIS_OK) {
      return Check(Status::Failed("redis: out of memory"));
    }
  }
}

}  // namespace verdi
