#include "publish/template.h"

#include <functional>

#include <fmt/format.h>

#include "jobspec/url_escape.h"

namespace verdi::publish {
namespace {

// `value` as str() would print it: strings bare, others as JSON.
std::string AsText(const Json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

Status Lookup(const std::string& field, const TemplateFields& fields, std::string* out) {
  size_t bracket = field.find('[');
  std::string name = field.substr(0, bracket);
  if (name.empty() || name.find_first_not_of("0123456789") == std::string::npos)
    return Status::Invalid(fmt::format("`{{{}}}` is a positional field (expected a name)", field));
  if (name.find_first_of(".!:") != std::string::npos)
    return Status::Invalid(
        fmt::format("`{{{}}}`: attributes, conversions and format specs are not supported", field));
  if (bracket == std::string::npos) {
    auto it = fields.names.find(name);
    if (it == fields.names.end())
      return Status::Invalid(fmt::format("unknown field `{{{}}}`", field));
    *out = it->second;
    return Status::OK();
  }
  auto object = fields.objects.find(name);
  if (object == fields.objects.end())
    return Status::Invalid(fmt::format("unknown field `{{{}}}`", field));
  const Json* value = &object->second;
  // [a][b]...: keys of nested objects (or indexes of lists).
  for (size_t i = bracket; i < field.size();) {
    size_t close = field.find(']', i);
    if (field[i] != '[' || close == std::string::npos)
      return Status::Invalid(fmt::format("`{{{}}}` is not a valid field", field));
    std::string key = field.substr(i + 1, close - i - 1);
    i = close + 1;
    const Json* next = nullptr;
    if (value->is_object()) {
      auto it = value->find(key);
      if (it != value->end()) next = &*it;
    } else if (value->is_array() && !key.empty() &&
               key.find_first_not_of("0123456789") == std::string::npos) {
      size_t n = std::stoul(key);
      if (n < value->size()) next = &(*value)[n];
    }
    if (next == nullptr)
      return Status::Invalid(
          fmt::format("unknown field `{{{}}}` (no `{}` in {})", field, key, name));
    value = next;
  }
  *out = AsText(*value);
  return Status::OK();
}

// Checks each value as it is filled in: field and value.
using ValueCheck = std::function<Status(const std::string&, const std::string&)>;

Status Fill(const std::string& text, const TemplateFields& fields, const ValueCheck& check,
            std::string* out, size_t* fixed_prefix) {
  std::string result;
  *fixed_prefix = std::string::npos;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        result += '}';
        ++i;
        continue;
      }
      return Status::Invalid("single `}` (expected `}}` for a literal brace)");
    }
    if (c == '$' && i + 1 < text.size() && text[i + 1] == '{' &&
        !(i + 2 < text.size() && text[i + 2] == '{'))
      continue;  // ${name} is read as {name}
    if (c != '{') {
      result += c;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      result += '{';
      ++i;
      continue;
    }
    size_t close = text.find('}', i);
    if (close == std::string::npos)
      return Status::Invalid("unclosed `{` (expected `{name}`, or `{{` for a literal brace)");
    std::string field = text.substr(i + 1, close - i - 1);
    std::string value;
    VERDI_RETURN_IF_ERROR(Lookup(field, fields, &value));
    if (check) VERDI_RETURN_IF_ERROR(check(field, value));
    if (*fixed_prefix == std::string::npos) *fixed_prefix = result.size();
    result += value;
    i = close;
  }
  *out = std::move(result);
  return Status::OK();
}

bool IsNetworkUrl(const std::string& text) {
  size_t scheme = text.find("://");
  return scheme != std::string::npos && text.compare(0, scheme, "file") != 0;
}

// "..." with control bytes escaped, for messages.
std::string Quoted(const std::string& value) {
  std::string out = "\"";
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else if (c == '"' || c == '\\')
      out += std::string("\\") + static_cast<char>(c);
    else
      out += static_cast<char>(c);
  }
  return out + "\"";
}

Status CheckValue(const std::string& field, const std::string& value, bool network) {
  auto refuse = [&](const std::string& why) {
    return Status::Invalid(
        fmt::format("field `{{{}}}` is {}: {}; refused", field, Quoted(value), why));
  };
  for (const std::string& v : {value, PercentDecode(value)}) {
    if (v.find('\0') != std::string::npos) return refuse("a NUL in a destination");
    if (v.starts_with("..") || v.find("/..") != std::string::npos ||
        v.find("\\..") != std::string::npos)
      return refuse("`..` would climb out of the destination");
  }
  if (network && value.find_first_of("?#") != std::string::npos)
    return refuse("`?` or `#` would cut the destination URL short");
  return Status::OK();
}

// Whether `filled` stays strictly below the directory that its first
// `fixed` characters (the template's text before its first field) name.
Status CheckResolved(const std::string& filled, size_t fixed, bool network) {
  if (fixed == std::string::npos) return Status::OK();  // no field: nothing to check
  size_t after_scheme = filled.find("://");
  after_scheme = after_scheme == std::string::npos ? 0 : after_scheme + 3;
  size_t path_start = filled.find('/', after_scheme);
  size_t root_end = filled.rfind('/', fixed == 0 ? 0 : fixed - 1);
  // A field before the path starts (in the scheme or the host) has no root to
  // keep to; CheckValue covered each value.
  if (root_end == std::string::npos || path_start == std::string::npos || root_end < path_start ||
      fixed == 0)
    return Status::OK();
  std::string rest = filled.substr(root_end + 1);
  if (network) rest = rest.substr(0, rest.find_first_of("?#"));
  rest = PercentDecode(rest);
  int depth = 0;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t slash = rest.find('/', start);
    std::string seg = rest.substr(start, slash == std::string::npos ? slash : slash - start);
    if (seg == "..") {
      if (--depth < 0) break;
    } else if (!seg.empty() && seg != ".") {
      ++depth;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (depth <= 0)
    return Status::Invalid(fmt::format("the destination {} resolves to {} or above it; refused",
                                       Quoted(filled), Quoted(filled.substr(0, root_end + 1))));
  return Status::OK();
}

}  // namespace

Status FillTemplate(const std::string& text, const TemplateFields& fields, std::string* out) {
  size_t fixed = 0;
  return Fill(text, fields, nullptr, out, &fixed);
}

Status FillDestinationTemplate(const std::string& text, const TemplateFields& fields,
                               std::string* out) {
  bool network = IsNetworkUrl(text);
  size_t fixed = 0;
  std::string filled;
  VERDI_RETURN_IF_ERROR(Fill(
      text, fields,
      [network](const std::string& field, const std::string& value) {
        return CheckValue(field, value, network);
      },
      &filled, &fixed));
  VERDI_RETURN_IF_ERROR(CheckResolved(filled, fixed, network));
  *out = std::move(filled);
  return Status::OK();
}

}  // namespace verdi::publish
