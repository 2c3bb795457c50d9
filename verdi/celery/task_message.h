// Celery task messages (protocol v2 and v1) to and from bytes, and the result
// documents a worker stores. Pure: no network, no threads, no clock.
//
// The wire format is Celery's task message protocol (AMQP properties, v2
// headers and body, v1, serializers); the Python producer of Celery 5.2.6 /
// kombu 5.2.4 is the model for both directions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/timestamp.h"
#include "jobspec/json_field.h"
#include "verdi/amqp/message.h"
#include "verdi/celery/serializer.h"

namespace verdi {

/// The one task a verdi worker runs: HySDS's job task.
inline constexpr const char* kRunJobTaskName = "hysds.job_worker.run_job";
/// verdi's built-in task that runs nothing: SUCCESS (result None) stored,
/// then the ack. A client sends it to measure the message path or to probe
/// that a worker consumes its queue and reaches its result backend.
inline constexpr const char* kNoopTaskName = "verdi.noop";

/// Task messages are decoded from what the broker delivered.
using Delivery = AmqpDelivery;

/// One Celery task request, whatever protocol and serializer it came in.
struct TaskMessage {
  /// 2 when the message had a `task` header (including the hybrid form whose
  /// body is a v1 map), 1 when the task name came from the body.
  int protocol = 2;
  std::string id, task;
  Json args = Json::array();
  Json kwargs = Json::object();
  /// The v2 body's third element: {callbacks, errbacks, chain, chord} or
  /// null. Built like Celery does for v1 (chain always null).
  Json embed = nullptr;
  std::optional<WallClock::time_point> eta, expires;
  /// From `timelimit` = [hard, soft], in seconds; absent when null.
  std::optional<double> hard_time_limit, soft_time_limit;
  int64_t retries = 0;
  /// Absent when the producer did not say (the task's default applies).
  std::optional<bool> ignore_result;
  std::string root_id, parent_id, group_id, origin, shadow;
  /// From the AMQP properties; correlation_id falls back to `id`.
  std::string reply_to, correlation_id;
  /// The ids of the tasks this one sent while it ran (Celery's
  /// request.children), in the order sent: its result lists them.
  std::vector<std::string> children;
};

struct DecodeLimits {
  /// Largest body accepted, before and after decompression.
  size_t max_body_bytes = 64 << 20;
  /// Deepest nesting of lists and maps in the body (the top level is 1).
  size_t max_depth = 128;
};

/// Decodes a task message into `*out` (reset first).
///
/// Protocol: a `task` header means v2; otherwise the body must decode to a map
/// with a `task` key (v1). When the body is a map with `args` (v1 or the
/// hybrid form), its fields are read and the headers present win over them,
/// as Celery's `hybrid_to_proto2` does.
///
/// Serializers: application/json (UTF-8, with kombu's {"__type__",
/// "__value__"} markers decoded to strings: datetime/date/time as ISO text,
/// decimal as text, uuid as the dashed hex form, bytes as their text, base64
/// as the decoded bytes) and application/x-msgpack (bin values become
/// strings of those bytes). Pickle, YAML, a missing and any other content
/// type are refused. The `compression` header may be application/x-gzip (a
/// zlib stream, what kombu writes for both "gzip" and "zlib") or those alias
/// names; any other is refused.
///
/// Times (eta, expires) are ISO-8601 strings, naive meaning UTC, or integers
/// (POSIX seconds, an AMQP timestamp); they are clamped to what
/// WallClock::time_point can hold. content_encoding is informational: JSON is
/// always read as UTF-8.
///
/// On error returns Invalid whose message starts with where the problem is
/// ("body: invalid JSON: ...", "headers.eta: expected an ISO-8601 time, got
/// ...", "content_type: application/x-python-serialize (pickle) is refused:
/// verdi never unpickles", "body is 10485760 bytes, more than the 8388608
/// allowed"), and still fills out->id and out->task when they could be read,
/// for the log line. Failed only for a bug (an unexpected exception inside).
Status DecodeTaskMessage(const Delivery& delivery, const DecodeLimits& limits, TaskMessage* out);

/// Decodes the bytes of a message body (a task, or a remote-control command,
/// which uses the same serializers) as DecodeTaskMessage does: checks the
/// size, picks the serializer from `content_type`, inflates per
/// `compression` (the header's value; nullptr, null or "" for none), parses
/// with the depth limit and, for JSON, decodes kombu's type markers.
Status DecodeMessageBody(const std::string& content_type, const Json* compression,
                         std::string_view body, const DecodeLimits& limits, Json* out);

/// Encodes `task` as a Python producer does (`AMQP.as_task_v2` + kombu json):
/// the headers lang "py", task, id, shadow, eta, expires, group, group_index
/// (null), retries, timelimit [hard, soft] (null when absent), root_id (the
/// id when empty), parent_id, argsrepr, kwargsrepr (JSON of the values, cut
/// at 1024 bytes), origin and ignore_result (false when absent); empty strings
/// and absent times are null. Body: [args, kwargs, embed] as Python's
/// json.dumps writes it; embed is {callbacks, errbacks, chain, chord} all
/// null unless task.embed is a map. With msgpack (task_serializer =
/// "msgpack") the same body is packed as kombu does (Serialize), with
/// content_type application/x-msgpack and content_encoding binary; json:
/// application/json and utf-8. correlation_id = the id unless
/// task.correlation_id is set, reply_to = task.reply_to. Strings that are not
/// UTF-8 are written as PyJsonDumps does (json) or as bin (msgpack). args must
/// be a list and kwargs a map (else empty ones are sent).
AmqpOutgoing EncodeTaskMessage(const TaskMessage& task, Serializer serializer = Serializer::kJson);

/// The exception of a FAILURE/RETRY result as Celery encodes it for JSON:
/// {"exc_type": T, "exc_message": [message], "exc_module": M}. Python clients
/// rebuild it (`exception_to_python`) as M.T(message), e.g. builtins
/// RuntimeError.
Json ExceptionResult(const std::string& exc_type, const std::string& exc_module,
                     const std::string& message);

/// Parses an ISO-8601 time as Celery producers write it:
/// "YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|+HH:MM|-HH:MM|+HHMM]". No offset
/// means UTC. Fractions past microseconds are dropped. False when malformed
/// or out of range (month 13, 25:00, ...).
bool ParseIsoTime(std::string_view text, WallClock::time_point* out);

/// Python's datetime.isoformat() of a UTC time: "2026-11-23T08:04:54.022062+00:00",
/// without the fraction when it is zero.
std::string FormatIsoTime(WallClock::time_point t);

/// Python's json.dumps(value) with kombu's json encoder: ", " and ": "
/// separators, non-ASCII escaped, keys in the map's (sorted) order, NaN and
/// Infinity as Python writes them. A string that is not UTF-8 (bytes from a
/// msgpack bin or a base64 marker) is written as kombu's marker
/// {"__type__": "base64", "__value__": ...}, which kombu >= 5.3 reads back as
/// bytes and DecodeTaskMessage as the same string; in a map key, the bad bytes
/// become U+FFFD.
std::string PyJsonDumps(const Json& value);

/// Well-formed UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
bool IsValidUtf8(std::string_view text);

}  // namespace verdi
