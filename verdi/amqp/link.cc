#include "verdi/amqp/link.h"

#include <cerrno>
#include <string>

#include <amqp.h>
#include <amqp_framing.h>

#include <fmt/format.h>
#include <openssl/err.h>

#include "base/log.h"
#include "base/tcp_connect.h"
#include "verdi/amqp/socket.h"
#include "verdi/amqp/table.h"

namespace verdi {
namespace {

constexpr amqp_channel_t kConsumeChannel = 1;
constexpr amqp_channel_t kDeclareChannel = 2;
// no_ack consumers (the pidbox): a channel without the prefetch window, so
// that unacked tasks never hold their messages back.
constexpr amqp_channel_t kNoAckChannel = 3;
constexpr int kFrameMax = 131072;

amqp_bytes_t Bytes(std::string_view s) {
  amqp_bytes_t b;
  b.len = s.size();
  b.bytes = const_cast<char*>(s.data());
  return b;
}

std::string String(const amqp_bytes_t& b) {
  return b.len == 0 ? std::string() : std::string(static_cast<const char*>(b.bytes), b.len);
}

std::string CloseReason(uint64_t method_id, const void* decoded) {
  if (method_id == AMQP_CONNECTION_CLOSE_METHOD) {
    auto* m = static_cast<const amqp_connection_close_t*>(decoded);
    return fmt::format("{} {}", m->reply_code, String(m->reply_text));
  }
  auto* m = static_cast<const amqp_channel_close_t*>(decoded);
  return fmt::format("{} {}", m->reply_code, String(m->reply_text));
}

// What OpenSSL said about this thread's last TLS failure (librabbitmq says
// only "a SSL error occurred"), e.g. "...:tlsv13 alert certificate required";
// empties OpenSSL's error queue.
std::string OpenSslErrors() {
  std::string text;
  while (unsigned long err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    text += (text.empty() ? "" : "; ") + std::string(buf);
  }
  return text;
}

}  // namespace

AmqpLink::~AmqpLink() { Close(); }

Status AmqpLink::Connect(const AmqpUrl& url, const AmqpTls& tls) {
  Close();
  where_ = fmt::format("{}://{}:***@{}/{}", url.tls ? "amqps" : "amqp", url.user,
                       HostPort(url.host, url.port), url.vhost);
  conn_ = amqp_new_connection();
  if (conn_ == nullptr) return Status::Failed(where_ + ": cannot allocate a connection");
  Status st = OpenAmqpSocket(conn_, url, tls);
  if (!st.ok()) {
    Drop();
    return st.WithPrefix(where_);
  }
  timeval timeout{url.connect_timeout_seconds, 0};
  amqp_set_handshake_timeout(conn_, &timeout);
  // Announce consumer_cancel_notify (as py-amqp does) so that a deleted queue
  // shows up as basic.cancel instead of a consumer that silently stops.
  AmqpPool pool;
  amqp_table_t properties;
  Json client = {{"product", "verdi"}, {"capabilities", {{"consumer_cancel_notify", true}}}};
  st = JsonToAmqpTable(client, "client_properties", pool.get(), &properties);
  if (!st.ok()) {
    Drop();
    return st.WithPrefix(where_);
  }
  amqp_rpc_reply_t r = amqp_login_with_properties(
      conn_, url.vhost.c_str(), 0, kFrameMax, url.heartbeat_seconds, &properties,
      AMQP_SASL_METHOD_PLAIN, url.user.c_str(), url.password.c_str());
  int saved_errno = errno;
  if (r.reply_type != AMQP_RESPONSE_NORMAL) return ReplyError("login", r, 0, saved_errno);
  connected_ = true;
  amqp_channel_open(conn_, kConsumeChannel);
  VERDI_RETURN_IF_ERROR(RpcError("channel.open", kConsumeChannel));
  amqp_channel_open(conn_, kNoAckChannel);
  return RpcError("channel.open", kNoAckChannel);
}

void AmqpLink::Close() {
  if (conn_ != nullptr && connected_) {
    timeval timeout{2, 0};
    amqp_set_rpc_timeout(conn_, &timeout);
    amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
  }
  Drop();
}

void AmqpLink::Drop() {
  connected_ = false;
  declare_channel_open_ = false;
  if (conn_ != nullptr) amqp_destroy_connection(conn_);
  conn_ = nullptr;
}

int AmqpLink::fd() const { return conn_ == nullptr ? -1 : amqp_get_sockfd(conn_); }

bool AmqpLink::HasBufferedData() const {
  return conn_ != nullptr && (amqp_frames_enqueued(conn_) || amqp_data_in_buffer(conn_));
}

int AmqpLink::heartbeat_seconds() const { return conn_ == nullptr ? 0 : amqp_get_heartbeat(conn_); }

Status AmqpLink::RequireConnected(const char* what) const {
  if (connected_) return Status::OK();
  return Status::Failed(fmt::format("{}: {}: not connected", where_, what));
}

Status AmqpLink::LibraryError(const std::string& what, int status, int saved_errno) {
  std::string text = fmt::format("{}: {}: {}", where_, what, amqp_error_string2(status));
  if (status == AMQP_STATUS_SSL_ERROR) {
    std::string detail = OpenSslErrors();
    if (!detail.empty()) text += " (" + detail + ")";
  }
  Drop();
  switch (status) {
    case AMQP_STATUS_SOCKET_ERROR:
      if (saved_errno == 0 || saved_errno == EINPROGRESS || saved_errno == EAGAIN) {
        saved_errno = EIO;
      }
      return Status::IOError(text, saved_errno);
    case AMQP_STATUS_CONNECTION_CLOSED:
      return Status::IOError(text, ECONNRESET);
    case AMQP_STATUS_SOCKET_CLOSED:
      return Status::IOError(text, ENOTCONN);
    case AMQP_STATUS_TIMEOUT:
    case AMQP_STATUS_HEARTBEAT_TIMEOUT:
      return Status::IOError(text, ETIMEDOUT);
    default:
      return Status::Failed(text);
  }
}

Status AmqpLink::ServerClosed(const std::string& what, uint64_t method_id, const void* decoded,
                              int channel) {
  std::string reason = CloseReason(method_id, decoded);
  if (method_id == AMQP_CONNECTION_CLOSE_METHOD) {
    amqp_connection_close_ok_t ok{};
    amqp_send_method(conn_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    Drop();
    return Status::Failed(
        fmt::format("{}: {}: the broker closed the connection: {}", where_, what, reason));
  }
  amqp_channel_close_ok_t ok{};
  amqp_send_method(conn_, static_cast<amqp_channel_t>(channel), AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
  std::string text = fmt::format("{}: {}: the broker closed the channel: {}", where_, what, reason);
  if (channel == kDeclareChannel) {
    declare_channel_open_ = false;  // reopened by the next declaration
  } else {
    Close();  // its consumers and prefetch are gone: start again
  }
  return Status::Failed(text);
}

Status AmqpLink::ReplyError(const std::string& what, const amqp_rpc_reply_t& r, int channel,
                            int saved_errno) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return Status::OK();
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return LibraryError(what, r.library_error, saved_errno);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD || r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        return ServerClosed(what, r.reply.id, r.reply.decoded, channel);
      }
      break;
    default:
      break;
  }
  Drop();
  return Status::Failed(fmt::format("{}: {}: unexpected reply from the broker", where_, what));
}

Status AmqpLink::RpcError(const std::string& what, int channel) {
  int saved_errno = errno;
  return ReplyError(what, amqp_get_rpc_reply(conn_), channel, saved_errno);
}

Status AmqpLink::OpenDeclareChannel() {
  if (declare_channel_open_) return Status::OK();
  amqp_channel_open(conn_, kDeclareChannel);
  VERDI_RETURN_IF_ERROR(RpcError("channel.open", kDeclareChannel));
  declare_channel_open_ = true;
  return Status::OK();
}

Status AmqpLink::DeclareExchange(const std::string& name, const std::string& type, bool durable,
                                 bool auto_delete) {
  VERDI_RETURN_IF_ERROR(RequireConnected("exchange.declare"));
  VERDI_RETURN_IF_ERROR(OpenDeclareChannel());
  amqp_exchange_declare(conn_, kDeclareChannel, Bytes(name), Bytes(type), 0, durable ? 1 : 0,
                        auto_delete ? 1 : 0, 0, amqp_empty_table);
  return RpcError("exchange.declare " + name, kDeclareChannel);
}

Status AmqpLink::DeclareQueue(const QueueSpec& spec, bool* passive) {
  *passive = false;
  VERDI_RETURN_IF_ERROR(RequireConnected("queue.declare"));
  AmqpPool pool;
  amqp_table_t arguments;
  VERDI_RETURN_IF_ERROR(
      JsonToAmqpTable(spec.arguments, "queue " + spec.name + " arguments", pool.get(), &arguments));
  const std::string& exchange = spec.exchange.empty() ? spec.name : spec.exchange;
  const std::string& routing_key = spec.routing_key.empty() ? spec.name : spec.routing_key;
  VERDI_RETURN_IF_ERROR(DeclareExchange(
      exchange, spec.exchange_type.empty() ? "direct" : spec.exchange_type, true, false));
  std::string what = "queue.declare " + spec.name;
  amqp_queue_declare(conn_, kDeclareChannel, Bytes(spec.name), 0, 1, 0, 0, arguments);
  int saved_errno = errno;
  amqp_rpc_reply_t r = amqp_get_rpc_reply(conn_);
  if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD &&
      static_cast<amqp_channel_close_t*>(r.reply.decoded)->reply_code == AMQP_PRECONDITION_FAILED) {
    // The queue exists with other arguments (e.g. x-max-priority set by a
    // Python client): the broker closed the declaration channel. Use the
    // queue as it is, as kombu users are told to.
    std::string reason = CloseReason(r.reply.id, r.reply.decoded);
    ServerClosed(what, r.reply.id, r.reply.decoded, kDeclareChannel);
    VERDI_RETURN_IF_ERROR(OpenDeclareChannel());
    amqp_queue_declare(conn_, kDeclareChannel, Bytes(spec.name), 1, 0, 0, 0, amqp_empty_table);
    VERDI_RETURN_IF_ERROR(RpcError(what + " (passive)", kDeclareChannel));
    *passive = true;
    LogWarning("{}: queue {} exists with other arguments; using it as it is: {}", where_, spec.name,
               reason);
  } else {
    VERDI_RETURN_IF_ERROR(ReplyError(what, r, kDeclareChannel, saved_errno));
  }
  amqp_queue_bind(conn_, kDeclareChannel, Bytes(spec.name), Bytes(exchange), Bytes(routing_key),
                  amqp_empty_table);
  return RpcError("queue.bind " + spec.name, kDeclareChannel);
}

Status AmqpLink::InspectQueue(const std::string& name, uint32_t* messages, uint32_t* consumers,
                              bool* exists) {
  *messages = *consumers = 0;
  *exists = false;
  VERDI_RETURN_IF_ERROR(RequireConnected("queue.declare"));
  VERDI_RETURN_IF_ERROR(OpenDeclareChannel());
  std::string what = "queue.declare " + name + " (passive)";
  amqp_queue_declare_ok_t* ok =
      amqp_queue_declare(conn_, kDeclareChannel, Bytes(name), 1, 0, 0, 0, amqp_empty_table);
  int saved_errno = errno;
  amqp_rpc_reply_t r = amqp_get_rpc_reply(conn_);
  if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD &&
      static_cast<amqp_channel_close_t*>(r.reply.decoded)->reply_code == AMQP_NOT_FOUND) {
    ServerClosed(what, r.reply.id, r.reply.decoded, kDeclareChannel);  // reopened on next use
    return Status::OK();
  }
  VERDI_RETURN_IF_ERROR(ReplyError(what, r, kDeclareChannel, saved_errno));
  *exists = true;
  *messages = ok->message_count;
  *consumers = ok->consumer_count;
  return Status::OK();
}

Status AmqpLink::DeclareBoundQueue(const std::string& name, const std::string& exchange,
                                   const std::string& routing_key, bool durable, bool exclusive,
                                   bool auto_delete, const Json& arguments) {
  VERDI_RETURN_IF_ERROR(RequireConnected("queue.declare"));
  VERDI_RETURN_IF_ERROR(OpenDeclareChannel());
  AmqpPool pool;
  amqp_table_t table;
  VERDI_RETURN_IF_ERROR(
      JsonToAmqpTable(arguments, "queue " + name + " arguments", pool.get(), &table));
  amqp_queue_declare(conn_, kDeclareChannel, Bytes(name), 0, durable ? 1 : 0, exclusive ? 1 : 0,
                     auto_delete ? 1 : 0, table);
  VERDI_RETURN_IF_ERROR(RpcError("queue.declare " + name, kDeclareChannel));
  amqp_queue_bind(conn_, kDeclareChannel, Bytes(name), Bytes(exchange), Bytes(routing_key),
                  amqp_empty_table);
  return RpcError("queue.bind " + name, kDeclareChannel);
}

Status AmqpLink::SetPrefetch(uint16_t count) {
  VERDI_RETURN_IF_ERROR(RequireConnected("basic.qos"));
  // global: one window shared by the consumers of all queues, which a later
  // basic.qos changes at once (Celery sets global on RabbitMQ 3.x too).
  amqp_basic_qos(conn_, kConsumeChannel, 0, count, 1);
  return RpcError("basic.qos", kConsumeChannel);
}

Status AmqpLink::Consume(const std::string& queue, std::string* consumer_tag, bool no_ack) {
  VERDI_RETURN_IF_ERROR(RequireConnected("basic.consume"));
  amqp_channel_t channel = no_ack ? kNoAckChannel : kConsumeChannel;
  amqp_basic_consume_ok_t* ok = amqp_basic_consume(conn_, channel, Bytes(queue), amqp_empty_bytes,
                                                   0, no_ack ? 1 : 0, 0, amqp_empty_table);
  VERDI_RETURN_IF_ERROR(RpcError("basic.consume " + queue, channel));
  *consumer_tag = String(ok->consumer_tag);
  return Status::OK();
}

Status AmqpLink::Cancel(const std::string& consumer_tag) {
  VERDI_RETURN_IF_ERROR(RequireConnected("basic.cancel"));
  amqp_basic_cancel(conn_, kConsumeChannel, Bytes(consumer_tag));
  return RpcError("basic.cancel " + consumer_tag, kConsumeChannel);
}

Status AmqpLink::HandleUnexpectedFrame() {
  amqp_frame_t frame;
  int rc = amqp_simple_wait_frame(conn_, &frame);
  if (rc != AMQP_STATUS_OK) return LibraryError("read a frame", rc, errno);
  if (frame.frame_type != AMQP_FRAME_METHOD) return Status::OK();
  const amqp_method_t& method = frame.payload.method;
  switch (method.id) {
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD:
      return ServerClosed("consume", method.id, method.decoded, frame.channel);
    case AMQP_BASIC_CANCEL_METHOD: {
      std::string tag = String(static_cast<amqp_basic_cancel_t*>(method.decoded)->consumer_tag);
      Close();
      return Status::Failed(fmt::format(
          "{}: the broker cancelled consumer {} (was its queue deleted?)", where_, tag));
    }
    case AMQP_BASIC_RETURN_METHOD: {  // followed by the returned message
      amqp_message_t message;
      amqp_rpc_reply_t r = amqp_read_message(conn_, frame.channel, &message, 0);
      if (r.reply_type == AMQP_RESPONSE_NORMAL) amqp_destroy_message(&message);
      return ReplyError("basic.return", r, frame.channel, errno);
    }
    default:  // basic.ack / basic.nack (publisher confirms), connection.blocked ...
      return Status::OK();
  }
}

Status AmqpLink::Poll(std::chrono::milliseconds timeout, AmqpDelivery* out, bool* got) {
  using std::chrono::steady_clock;
  *got = false;
  VERDI_RETURN_IF_ERROR(RequireConnected("consume"));
  steady_clock::time_point deadline = steady_clock::now() + timeout;
  for (;;) {
    amqp_maybe_release_buffers(conn_);
    auto left =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline - steady_clock::now());
    if (left.count() < 0) left = std::chrono::microseconds(0);
    timeval tv{static_cast<time_t>(left.count() / 1000000),
               static_cast<suseconds_t>(left.count() % 1000000)};
    amqp_envelope_t envelope;
    amqp_rpc_reply_t r = amqp_consume_message(conn_, &envelope, &tv, 0);
    int saved_errno = errno;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
      if (r.library_error == AMQP_STATUS_TIMEOUT) return Status::OK();
      if (r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        VERDI_RETURN_IF_ERROR(HandleUnexpectedFrame());
        continue;
      }
    }
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
      return ReplyError("consume", r, kConsumeChannel, saved_errno);
    }
    AmqpDelivery d;
    d.delivery_tag = envelope.delivery_tag;
    d.exchange = String(envelope.exchange);
    d.routing_key = String(envelope.routing_key);
    d.consumer_tag = String(envelope.consumer_tag);
    d.redelivered = envelope.redelivered != 0;
    const amqp_basic_properties_t& p = envelope.message.properties;
    auto flag = [&](amqp_flags_t f) { return (p._flags & f) != 0; };
    if (flag(AMQP_BASIC_CONTENT_TYPE_FLAG)) d.content_type = String(p.content_type);
    if (flag(AMQP_BASIC_CONTENT_ENCODING_FLAG)) d.content_encoding = String(p.content_encoding);
    if (flag(AMQP_BASIC_CORRELATION_ID_FLAG)) d.correlation_id = String(p.correlation_id);
    if (flag(AMQP_BASIC_REPLY_TO_FLAG)) d.reply_to = String(p.reply_to);
    if (flag(AMQP_BASIC_MESSAGE_ID_FLAG)) d.message_id = String(p.message_id);
    if (flag(AMQP_BASIC_PRIORITY_FLAG)) d.priority = p.priority;
    if (flag(AMQP_BASIC_HEADERS_FLAG)) d.headers = AmqpTableToJson(p.headers);
    d.body = String(envelope.message.body);
    amqp_destroy_envelope(&envelope);
    *out = std::move(d);
    *got = true;
    return Status::OK();
  }
}

Status AmqpLink::Ack(uint64_t delivery_tag) {
  VERDI_RETURN_IF_ERROR(RequireConnected("basic.ack"));
  int rc = amqp_basic_ack(conn_, kConsumeChannel, delivery_tag, 0);
  if (rc != AMQP_STATUS_OK) return LibraryError("basic.ack", rc, errno);
  return Status::OK();
}

Status AmqpLink::Reject(uint64_t delivery_tag, bool requeue) {
  VERDI_RETURN_IF_ERROR(RequireConnected("basic.reject"));
  int rc = amqp_basic_reject(conn_, kConsumeChannel, delivery_tag, requeue ? 1 : 0);
  if (rc != AMQP_STATUS_OK) return LibraryError("basic.reject", rc, errno);
  return Status::OK();
}

Status AmqpLink::Publish(std::string_view exchange, std::string_view routing_key,
                         const AmqpOutgoing& message) {
  VERDI_RETURN_IF_ERROR(RequireConnected("basic.publish"));
  amqp_basic_properties_t p{};
  AmqpPool pool;
  if (!message.headers.is_object() || !message.headers.empty()) {
    VERDI_RETURN_IF_ERROR(JsonToAmqpTable(message.headers, "headers", pool.get(), &p.headers));
    p._flags |= AMQP_BASIC_HEADERS_FLAG;
  }
  auto set = [&](const std::string& value, amqp_bytes_t* field, amqp_flags_t f) {
    if (value.empty()) return;
    *field = Bytes(value);
    p._flags |= f;
  };
  set(message.content_type, &p.content_type, AMQP_BASIC_CONTENT_TYPE_FLAG);
  set(message.content_encoding, &p.content_encoding, AMQP_BASIC_CONTENT_ENCODING_FLAG);
  set(message.correlation_id, &p.correlation_id, AMQP_BASIC_CORRELATION_ID_FLAG);
  set(message.reply_to, &p.reply_to, AMQP_BASIC_REPLY_TO_FLAG);
  set(message.expiration, &p.expiration, AMQP_BASIC_EXPIRATION_FLAG);
  if (message.delivery_mode != 0) {
    p.delivery_mode = message.delivery_mode;
    p._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
  }
  if (message.priority != 0) {
    p.priority = message.priority;
    p._flags |= AMQP_BASIC_PRIORITY_FLAG;
  }
  int rc = amqp_basic_publish(conn_, kConsumeChannel, Bytes(exchange), Bytes(routing_key), 0, 0, &p,
                              Bytes(message.body));
  if (rc != AMQP_STATUS_OK) return LibraryError("basic.publish", rc, errno);
  return Status::OK();
}

}  // namespace verdi
