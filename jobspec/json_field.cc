#include "jobspec/json_field.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

namespace verdi {

JsonField JsonField::operator[](std::string_view key) const {
  std::string child = fmt::format("{}.{}", path_, key);
  if (value_ == nullptr || !value_->is_object()) return JsonField(nullptr, std::move(child));
  auto it = value_->find(key);
  return JsonField(it == value_->end() ? nullptr : &*it, std::move(child));
}

JsonField JsonField::at(size_t index) const {
  std::string child = fmt::format("{}[{}]", path_, index);
  if (value_ == nullptr || !value_->is_array() || index >= value_->size())
    return JsonField(nullptr, std::move(child));
  return JsonField(&(*value_)[index], std::move(child));
}

size_t JsonField::size() const {
  return value_ != nullptr && value_->is_array() ? value_->size() : 0;
}

Status JsonField::Error(std::string_view expected) const {
  if (value_ == nullptr)
    return Status::Invalid(fmt::format("{}: is missing, expected {}", path_, expected));
  return Status::Invalid(
      fmt::format("{}: expected {}, got {}", path_, expected, DescribeJson(*value_)));
}

Status JsonField::GetString(std::string* out) const {
  if (value_ == nullptr || !value_->is_string()) return Error("a string");
  *out = value_->get<std::string>();
  return Status::OK();
}

Status JsonField::GetInt(int64_t* out) const {
  if (value_ == nullptr) return Error("an integer");
  if (value_->is_number_unsigned()) {
    // Above INT64_MAX it would wrap around to a negative number.
    if (value_->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return Error("an integer");
    *out = value_->get<int64_t>();
    return Status::OK();
  }
  if (value_->is_number_integer()) {
    *out = value_->get<int64_t>();
    return Status::OK();
  }
  // 3600.0 is a whole number too: Python producers write limits as floats.
  if (value_->is_number_float()) {
    double d = value_->get<double>();
    // Range check first: converting an out-of-range double is undefined.
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
        d == static_cast<double>(static_cast<int64_t>(d))) {
      *out = static_cast<int64_t>(d);
      return Status::OK();
    }
  }
  return Error("an integer");
}

Status JsonField::GetBool(bool* out) const {
  if (value_ == nullptr || !value_->is_boolean()) return Error("true or false");
  *out = value_->get<bool>();
  return Status::OK();
}

Status JsonField::GetStringList(std::vector<std::string>* out) const {
  VERDI_RETURN_IF_ERROR(ExpectArray());
  std::vector<std::string> items;
  for (size_t i = 0; i < size(); ++i) {
    std::string s;
    VERDI_RETURN_IF_ERROR(at(i).GetString(&s));
    items.push_back(std::move(s));
  }
  *out = std::move(items);
  return Status::OK();
}

Status JsonField::ExpectObject() const {
  if (value_ == nullptr || !value_->is_object()) return Error("an object");
  return Status::OK();
}

Status JsonField::ExpectArray() const {
  if (value_ == nullptr || !value_->is_array()) return Error("a list");
  return Status::OK();
}

Status JsonField::GetOptionalString(std::string* out) const {
  return missing() ? Status::OK() : GetString(out);
}
Status JsonField::GetOptionalInt(int64_t* out) const {
  return missing() ? Status::OK() : GetInt(out);
}
Status JsonField::GetOptionalBool(bool* out) const {
  return missing() ? Status::OK() : GetBool(out);
}
Status JsonField::GetOptionalStringList(std::vector<std::string>* out) const {
  return missing() ? Status::OK() : GetStringList(out);
}

const Json* FindPath(const Json& root, std::initializer_list<std::string_view> keys) {
  const Json* at = &root;
  for (std::string_view key : keys) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

std::string DescribeJson(const Json& value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "a list";
  std::string text = value.dump(-1, ' ', true, Json::error_handler_t::replace);
  constexpr size_t kMax = 60;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

namespace {

// The deepest nesting of `text` exceeds `max`? Strings are skipped, so
// brackets inside them do not count.
bool TooDeep(std::string_view text, size_t max) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace

Status ParseJsonText(std::string_view text, const std::string& where, Json* out) {
  if (TooDeep(text, kMaxJsonDepth))
    return Status::Invalid(
        fmt::format("{}: invalid JSON: nested deeper than {} levels", where, kMaxJsonDepth));
  try {
    *out = Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    // nlohmann's message starts with "[json.exception.parse_error.101] ".
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    return Status::Invalid(fmt::format("{}: invalid JSON: {}", where, what));
  }
  return Status::OK();
}

Status ReadJsonFile(const std::string& path, Json* out) {
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Status::IOError(path, errno);
  std::string text;
  Status st;
  struct stat info;
  if (fstat(fd, &info) != 0) {
    st = Status::IOError(path, errno);
  } else if (!S_ISREG(info.st_mode)) {
    st = Status::Invalid(path + ": not a regular file");
  } else {
    char buf[65536];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        st = Status::IOError(path, errno);
        break;
      }
      if (n == 0) break;
      if (text.size() + static_cast<size_t>(n) > kMaxJsonFileBytes) {
        st = Status::Invalid(fmt::format("{}: larger than {} bytes", path, kMaxJsonFileBytes));
        break;
      }
      text.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  VERDI_RETURN_IF_ERROR(st);
  return ParseJsonText(text, path, out);
}

namespace {

// The bytes an indent of 2 adds to the compact text of `value`, nested
// `depth` deep: each element of a non-empty list or map on a line of its own
// (a newline and 2 * (depth + 1) spaces), a space after each key's colon, and
// the closing bracket on a line of its own (a newline and 2 * depth spaces).
// Counting stops once the total passes `limit`.
uint64_t IndentBytes(const Json& value, uint64_t depth, uint64_t limit, uint64_t total) {
  if (!value.is_structured() || value.empty()) return total;
  uint64_t n = value.size();
  total += n * (1 + 2 * (depth + 1)) + 1 + 2 * depth + (value.is_object() ? n : 0);
  for (const Json& child : value) {
    if (total > limit) break;
    total = IndentBytes(child, depth + 1, limit, total);
  }
  return total;
}

}  // namespace

std::string DumpJsonFile(const Json& value) {
  int indent = IndentBytes(value, 0, kMaxJsonIndentBytes, 0) <= kMaxJsonIndentBytes ? 2 : -1;
  return value.dump(indent, ' ', true, Json::error_handler_t::replace);
}

Status WriteJsonFile(const std::string& path, const Json& value) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << DumpJsonFile(value);
    if (!out) return Status::IOError("writing " + tmp, errno);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::IOError("renaming " + tmp, errno);
  return Status::OK();
}

}  // namespace verdi
