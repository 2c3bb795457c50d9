// Celery's serializers as verdi writes them: json and msgpack, named and
// typed as kombu's registry does. Results (result_serializer), the task
// messages verdi sends and its remote-control replies (task_serializer) are
// written in one of them; pickle and yaml are refused.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "jobspec/json_field.h"

namespace verdi {

enum class Serializer { kJson, kMsgpack };

/// A serializer from a setting (`setting` names it in errors): kombu's name,
/// "json" or "msgpack", or its content type, "application/json" or
/// "application/x-msgpack"; case and surrounding spaces do not matter.
/// Invalid otherwise, e.g. "result_serializer: pickle is refused: verdi never
/// pickles or unpickles (json or msgpack)".
Status ParseSerializer(std::string_view name, std::string_view setting, Serializer* out);

/// A comma-separated list of them (accept_content), each as ParseSerializer,
/// duplicates dropped; Invalid when empty.
Status ParseSerializerList(std::string_view names, std::string_view setting,
                           std::vector<Serializer>* out);

/// "json" or "msgpack".
const char* SerializerName(Serializer serializer);
/// The content_type of a body: "application/json" or "application/x-msgpack".
const char* ContentTypeOf(Serializer serializer);
/// The content_encoding kombu sends with it: "utf-8" or "binary".
const char* ContentEncodingOf(Serializer serializer);

/// `value` as kombu writes it. json: PyJsonDumps. msgpack: msgpack.packb
/// with use_bin_type=True (PackMsgpack's bytes), a string that is not UTF-8
/// written as bin (bytes to Python, which unpacks str with raw=False) and a
/// map key that is not UTF-8 with its bad bytes as U+FFFD.
std::string Serialize(Serializer serializer, const Json& value);

}  // namespace verdi
