// AMQP messages as plain values: what AmqpLink delivers and what it publishes.
#pragma once

#include <cstdint>
#include <string>

#include "jobspec/json_field.h"

namespace verdi {

/// One message received from a queue (basic.deliver), not yet acked.
struct AmqpDelivery {
  uint64_t delivery_tag = 0;
  std::string exchange, routing_key, consumer_tag;
  bool redelivered = false;
  // Basic properties; empty / 0 when the publisher did not set them.
  std::string content_type, content_encoding, correlation_id, reply_to, message_id;
  uint8_t priority = 0;
  /// The application headers field table as JSON: S → string (UTF-8), t →
  /// bool, b/B/s/u/I/i/l/L → int (L read as signed), f/d → double,
  /// D (decimal) → double, T → int seconds, F → object, A → array, V → null,
  /// x (bytes) → string. See table.h.
  Json headers = Json::object();
  std::string body;
};

/// One message to publish. Empty strings are not sent (their property flag
/// stays unset); delivery_mode 2 is persistent, 1 transient.
struct AmqpOutgoing {
  std::string body, content_type, content_encoding, correlation_id, reply_to, expiration;
  /// Must be an object; encoded as py-amqp encodes a dict (see table.h).
  Json headers = Json::object();
  uint8_t priority = 0;
  uint8_t delivery_mode = 2;
};

}  // namespace verdi
