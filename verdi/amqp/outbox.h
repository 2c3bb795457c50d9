// What job slots ask of the broker connection, which only the connection
// thread may use: acks, rejects and publishes, handed over through here.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "verdi/amqp/message.h"

namespace verdi {

struct BrokerAction {
  enum class Kind { kAck, kReject, kPublish };
  Kind kind = Kind::kAck;
  uint64_t delivery_tag = 0;          // kAck, kReject
  bool requeue = false;               // kReject
  std::string exchange, routing_key;  // kPublish
  AmqpOutgoing message;               // kPublish
  /// The broker connection the delivery came on: an ack or reject for a
  /// connection that has since been lost is dropped (the broker redelivers).
  uint64_t connection = 0;
  /// Dropped without a log line when there is no connection.
  bool quiet = false;
  /// kPublish: declared first, once per connection, as Celery declares a
  /// task queue (DeclareQueue: exchange and queue of this name, bound), with
  /// these arguments.
  std::string declare_queue;
  Json declare_arguments = Json::object();
  /// kPublish: kept while there is no connection and sent on the next one,
  /// instead of being dropped (messages that nothing else would send again).
  bool retain = false;
  /// kPublish: called on the connection thread once the message is written
  /// to the broker (never when it is dropped); may be empty.
  std::function<void()> on_sent;

  static BrokerAction Ack(uint64_t tag) { return {Kind::kAck, tag}; }
  static BrokerAction Reject(uint64_t tag, bool requeue) { return {Kind::kReject, tag, requeue}; }
  static BrokerAction Publish(std::string exchange, std::string routing_key, AmqpOutgoing message) {
    BrokerAction a;
    a.kind = Kind::kPublish;
    a.exchange = std::move(exchange);
    a.routing_key = std::move(routing_key);
    a.message = std::move(message);
    return a;
  }
};

class AmqpLink;

/// A thread-safe queue of BrokerActions with an eventfd that is readable
/// while it is not empty, so the connection thread can poll() it together
/// with the broker's socket.
class Outbox {
 public:
  Outbox();
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  /// Any thread.
  void Push(BrokerAction action);
  /// The connection thread: everything pushed so far, in order.
  std::vector<BrokerAction> TakeAll();
  /// The connection thread: performs everything pushed so far on `link`,
  /// whose connection is number `connection`. An ack or reject of a
  /// delivery from an older connection is dropped (the broker redelivers
  /// it, and the stored result makes that copy a no-op); with no
  /// connection, everything is dropped, each action not marked quiet with
  /// a log line, except publishes marked `retain`, kept in order for the
  /// next flush (logged when their number grows).
  void FlushTo(AmqpLink* link, uint64_t connection);
  /// Retained publishes still waiting for a connection.
  size_t retained() const;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  mutable std::mutex mu_;
  std::vector<BrokerAction> actions_;
  /// The connection thread's: queues declared on connection `declared_on_`.
  std::set<std::string> declared_;
  uint64_t declared_on_ = 0;
  size_t kept_logged_ = 0;  // retained publishes at the last log line
};

}  // namespace verdi
