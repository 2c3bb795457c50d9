// Celery's result document (the backend's meta) in the serializer results
// are configured with, and read back whatever serializer wrote it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/timestamp.h"
#include "jobspec/json_field.h"
#include "verdi/celery/serializer.h"
#include "verdi/celery/task_message.h"

namespace verdi {

/// How results are written (result_serializer) and which stored ones are
/// read (result_accept_content).
struct ResultFormat {
  Serializer serializer = Serializer::kJson;
  std::vector<Serializer> accept = {Serializer::kJson, Serializer::kMsgpack};
};

/// The result document of a task, as Celery's backend writes it
/// (`_get_result_meta` + task_id) in `serializer`: {"status", "result",
/// "traceback", "children", "date_done", ["group_id"], ["parent_id"],
/// "task_id"}, in that order. `date_done` is written (ISO-8601 with +00:00)
/// only when `state` is READY (SUCCESS, FAILURE, REVOKED), else null.
/// `children` is the request's children as Celery writes them ([[[id, null],
/// null], ...]; [] when none) when `request` is given, and null without one;
/// group_id and parent_id come from `request` when they are set. json is
/// written like Python's json.dumps, msgpack like kombu's msgpack (Serialize).
std::string EncodeResult(Serializer serializer, const std::string& task_id,
                         const std::string& state, const Json& result, const Json& traceback,
                         const TaskMessage* request, WallClock::time_point date_done);

/// Decodes a stored result document. Its serializer is told by its first
/// byte ('{', after JSON's white space, is json; a msgpack map header is
/// msgpack), so a backend that changed serializers is still read; one that
/// `accept` does not hold is refused. Invalid, naming what was wrong: "the
/// stored result is msgpack, which result_accept_content (json) does not
/// accept", "the stored result is neither a JSON object nor a msgpack map",
/// or the decoder's error.
Status DecodeResult(std::string_view stored, const std::vector<Serializer>& accept, Json* doc);

/// The "status" of a decoded result document, "" when it has none.
std::string ResultState(const Json& doc);

}  // namespace verdi
