// The `dataset_jpath:<path>` source of a hysds-io param: the value taken
// from the dataset document (a GRQ search hit, `{"_id", "_source": {...}}`)
// that a trigger rule or a faceted submission hands HySDS's resolver
// (hysds_commons `get_inputs` and `process_xpath`).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "jobspec/json_field.h"

namespace verdi {

/// The path of a `from` that starts with "dataset_jpath:": the text after
/// the first ':' up to the next one, as Python's `from.split(":")[1]`.
/// "dataset_jpath:" gives "": the whole document.
std::string_view DatasetJpath(std::string_view from);

/// Walks `path` into `dataset` as process_xpath does: every "xpath." is
/// removed, the rest split at '.', and each part taken in turn; an empty
/// part (an empty path, a trailing or doubled '.') ends the walk there. A
/// part that reads as an integer (Python's int(): blanks, a sign, `_`
/// between digits) indexes a list or a string (negative from the end;
/// past the end: nothing) and finds nothing in an object; any other part
/// is a key of an object. `*out` is left empty where Python gets None
/// (a missing key, a null on the way). Where Python raises (a key of a
/// list, anything of a number), Invalid names the part and what it met.
Status ResolveDatasetJpath(const Json& dataset, std::string_view path, std::optional<Json>* out);

}  // namespace verdi
