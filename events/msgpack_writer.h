// JSON values as msgpack bytes, the way Python's msgpack.packb writes them
// (msgpack 1.0 defaults): the smallest integer format, floats always as
// float64, strings as str, keys in the object's (sorted) order. HySDS's
// readers are Python, and Python never writes float32: nlohmann's
// to_msgpack does when a double fits one, so a 0.5 would differ byte for byte.
#pragma once

#include <string>

#include "jobspec/json_field.h"

namespace verdi {

/// Appends the msgpack bytes of `value` to `*out`.
void AppendMsgpack(const Json& value, std::string* out);

/// The msgpack bytes of `value`.
std::string PackMsgpack(const Json& value);

}  // namespace verdi
