// One AMQP 0-9-1 connection to a broker (librabbitmq), doing what a Celery
// worker does with it: declare queues, consume with a prefetch, ack, reject,
// publish.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "jobspec/json_field.h"
#include "verdi/amqp/message.h"
#include "verdi/amqp/socket.h"
#include "verdi/amqp/url.h"

struct amqp_connection_state_t_;
struct amqp_rpc_reply_t_;

namespace verdi {

/// A queue as Celery declares it for `-Q name`.
struct QueueSpec {
  std::string name;
  /// Queue arguments, e.g. {"x-max-priority": 10}; see JsonToAmqpTable.
  Json arguments = Json::object();
  /// The exchange the queue is bound to and its type, and the binding's
  /// routing key; empty: the queue's name (a direct exchange), as Celery
  /// declares a queue named with -Q.
  std::string exchange, exchange_type, routing_key;
};

/// One connection with its consuming channel (1), a channel (3) for no_ack
/// consumers, plus a second channel (2) used only for declarations, so that a declaration the
/// broker refuses (it closes the channel) never takes the prefetch or the consumers with it.
///
/// NOT thread-safe: one thread owns the link and makes every call. To wait
/// for messages together with other events, poll() fd() for reading, but
/// call Poll(0) first whenever HasBufferedData() is true (librabbitmq may
/// already have read the next frames), and call Poll at least every
/// heartbeat_seconds() / 2: librabbitmq sends heartbeats only from inside its
/// calls (Poll does it even with a timeout of 0), and the broker drops a
/// connection that stays silent for two heartbeat intervals.
///
/// Errors: when an error Status comes back, check connected(): a socket
/// failure (IOError), a broker connection.close or a channel.close on the
/// consuming channel (Failed, with the broker's reply text) leaves the link
/// disconnected; Connect again, then declare, set the prefetch and consume
/// again. Invalid arguments and refused declarations leave it usable.
class AmqpLink {
 public:
  AmqpLink() = default;
  ~AmqpLink();
  AmqpLink(const AmqpLink&) = delete;
  AmqpLink& operator=(const AmqpLink&) = delete;

  /// Opens the socket (TCP or TLS), logs in with PLAIN, negotiates the
  /// heartbeat and opens the channels. Closes the previous connection first.
  /// Errors name the URL (password redacted) and the broker's or
  /// librabbitmq's reason, e.g. "ACCESS_REFUSED - Login was refused ...".
  Status Connect(const AmqpUrl& url, const AmqpTls& tls = AmqpTls());
  /// Closes the connection politely when it is still up (waits at most 2 s
  /// for the broker). Unacked deliveries go back to their queues.
  void Close();
  bool connected() const { return connected_; }

  /// The socket, for poll() (-1 when disconnected).
  int fd() const;
  /// librabbitmq holds frames or bytes already read: Poll(0) will not block.
  bool HasBufferedData() const;
  /// The heartbeat interval agreed with the broker, in seconds (0: none).
  int heartbeat_seconds() const;
  /// "amqp://user:***@host:port/vhost", for messages.
  const std::string& where() const { return where_; }

  /// exchange.declare (never passive, not internal, no arguments).
  Status DeclareExchange(const std::string& name, const std::string& type, bool durable,
                         bool auto_delete);
  /// What Celery declares for a queue: exchange `name` (direct, durable),
  /// queue `name` (durable, not exclusive, not auto-delete) with
  /// `spec.arguments`, bound with routing key `name`. When the queue already
  /// exists with other arguments (406 PRECONDITION_FAILED), logs one warning,
  /// uses the queue as it is (passive declare), binds it anyway and sets
  /// *passive = true.
  Status DeclareQueue(const QueueSpec& spec, bool* passive);
  /// A passive queue.declare: the messages ready in queue `name` and its
  /// consumers. A queue that does not exist is not an error: *exists = false
  /// and both counts 0.
  Status InspectQueue(const std::string& name, uint32_t* messages, uint32_t* consumers,
                      bool* exists);
  /// queue.declare with the given properties and `arguments` (see
  /// JsonToAmqpTable), then queue.bind to `exchange` with `routing_key`; for
  /// queues other than Celery's task queues (the pidbox).
  Status DeclareBoundQueue(const std::string& name, const std::string& exchange,
                           const std::string& routing_key, bool durable, bool exclusive,
                           bool auto_delete, const Json& arguments);

  /// basic.qos for the whole channel (0 = unlimited): how many deliveries
  /// may be unacked at once, over all queues; may be changed at any time.
  Status SetPrefetch(uint16_t count);
  /// basic.consume with acks; the broker chooses the tag. With no_ack, the
  /// consumer is on a third channel, outside the prefetch window (Cancel
  /// does not apply to it).
  Status Consume(const std::string& queue, std::string* consumer_tag, bool no_ack = false);
  /// basic.cancel. Deliveries already under way may still come from Poll.
  Status Cancel(const std::string& consumer_tag);

  /// Waits up to `timeout` (0: does not block) for the next delivery;
  /// *got = false when none came. Handles heartbeats; a channel.close or
  /// connection.close from the broker (e.g. 320 CONNECTION_FORCED when it
  /// shuts down) or a basic.cancel of a consumer becomes an error; returned
  /// messages and publisher acks are ignored. Once a delivery has started
  /// to arrive, its remaining frames are awaited regardless of `timeout`.
  Status Poll(std::chrono::milliseconds timeout, AmqpDelivery* out, bool* got);

  Status Ack(uint64_t delivery_tag);
  /// basic.reject; with requeue the message comes back with redelivered set.
  Status Reject(uint64_t delivery_tag, bool requeue);
  /// basic.publish (not mandatory). The broker reports failures such as an
  /// unknown exchange asynchronously, by closing the channel: the next Poll
  /// returns that error.
  Status Publish(std::string_view exchange, std::string_view routing_key,
                 const AmqpOutgoing& message);

 private:
  Status RequireConnected(const char* what) const;
  Status OpenDeclareChannel();
  Status RpcError(const std::string& what, int channel);
  Status ReplyError(const std::string& what, const amqp_rpc_reply_t_& reply, int channel,
                    int saved_errno);
  Status LibraryError(const std::string& what, int status, int saved_errno);
  Status HandleUnexpectedFrame();
  Status ServerClosed(const std::string& what, uint64_t method_id, const void* decoded,
                      int channel);
  void Drop();

  amqp_connection_state_t_* conn_ = nullptr;
  bool connected_ = false;
  bool declare_channel_open_ = false;
  std::string where_;
};

}  // namespace verdi
