// Reading JSON documents with errors that name the path of the bad value.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace verdi {

using Json = nlohmann::json;

/// A value inside a JSON document together with its path ("job.params.x",
/// "job.localize_urls[2].url"), so every rejection can say where it was.
/// Does not own the document; it must outlive the field.
class JsonField {
 public:
  JsonField(const Json* value, std::string path) : value_(value), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  /// The key existed (a present null counts as present).
  bool present() const { return value_ != nullptr; }
  /// Absent or JSON null: optional getters treat both as "not given".
  bool missing() const { return value_ == nullptr || value_->is_null(); }
  const Json& value() const { return *value_; }

  /// The member `key` of an object; absent when this is not an object or has
  /// no such key.
  JsonField operator[](std::string_view key) const;
  /// The element at `index` of an array; absent when out of range.
  JsonField at(size_t index) const;
  /// Number of elements of an array (0 for anything else).
  size_t size() const;

  /// Required values: an error when missing or of the wrong type.
  Status GetString(std::string* out) const;
  Status GetInt(int64_t* out) const;
  Status GetBool(bool* out) const;
  Status GetStringList(std::vector<std::string>* out) const;
  Status ExpectObject() const;
  Status ExpectArray() const;

  /// Optional values: `out` is left unchanged when missing (absent or null).
  Status GetOptionalString(std::string* out) const;
  Status GetOptionalInt(int64_t* out) const;
  Status GetOptionalBool(bool* out) const;
  Status GetOptionalStringList(std::vector<std::string>* out) const;

  /// "<path>: expected <expected>, got <the value>" (or "is missing").
  Status Error(std::string_view expected) const;

 private:
  const Json* value_;
  std::string path_;
};

/// The value at `keys` below `root` (objects only), or null when any key
/// along the way is missing or not an object.
const Json* FindPath(const Json& root, std::initializer_list<std::string_view> keys);

/// A short rendering of a JSON value for error messages: the value itself
/// (truncated when long) for scalars, "an object"/"a list" otherwise.
std::string DescribeJson(const Json& value);

/// The deepest nesting of lists and maps accepted in JSON text (the top
/// level is 1), the same bound as a task message's body.
inline constexpr size_t kMaxJsonDepth = 128;

/// Parses JSON text; `where` names the source in the error ("job.json").
/// Text nested deeper than kMaxJsonDepth, a number out of range
/// (`1e999999`) or any other problem is one Invalid: never an exception,
/// never a crash, whatever the text.
Status ParseJsonText(std::string_view text, const std::string& where, Json* out);

/// The largest JSON file ReadJsonFile reads.
inline constexpr size_t kMaxJsonFileBytes = 64 << 20;

/// Reads and parses a JSON file (a regular file of at most
/// kMaxJsonFileBytes, opened without blocking on a FIFO); errors name the
/// file.
Status ReadJsonFile(const std::string& path, Json* out);

/// The most bytes of indentation DumpJsonFile adds to a document.
inline constexpr uint64_t kMaxJsonIndentBytes = 1 << 20;

/// Python's json.dump(sort_keys=True, indent=2) as HySDS writes its files:
/// keys sorted, two-space indent, non-ASCII escaped, no newline at the end.
/// A document whose indentation would add more than kMaxJsonIndentBytes
/// (deep nesting: 7 MB of `[[[...]]]` is a gigabyte indented) is written
/// compact instead, keys still sorted: a file is never more than that much
/// larger than the compact text of what it holds.
std::string DumpJsonFile(const Json& value);

/// Writes DumpJsonFile(value) to `path` through `<path>.tmp` and a rename: a
/// reader sees the old file or the new one, never half.
Status WriteJsonFile(const std::string& path, const Json& value);

}  // namespace verdi
