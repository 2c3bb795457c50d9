// `verdi worker --echo`: a debugging worker that shows what arrives on its
// queues and runs nothing (the zr echo worker, seed 000).
#pragma once

#include <string>

#include "jobspec/json_field.h"
#include "verdi/amqp/message.h"
#include "verdi/celery/task_message.h"

namespace verdi {

/// One delivery as JSON, for the log: {delivery: {delivery_tag, exchange,
/// routing_key, redelivered, consumer_tag}, properties: {content_type,
/// content_encoding, correlation_id, reply_to, message_id, priority},
/// headers, body: the decoded body (JSON or msgpack, inflated) — or, when it
/// does not decode, body_error and body_raw (UTF-8-safe, cut at 4 KiB)}.
Json DescribeDelivery(const AmqpDelivery& delivery, const DecodeLimits& limits);

}  // namespace verdi
