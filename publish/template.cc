#include "publish/template.h"

#include <fmt/format.h>

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

}  // namespace

Status FillTemplate(const std::string& text, const TemplateFields& fields, std::string* out) {
  std::string result;
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
    std::string value;
    VERDI_RETURN_IF_ERROR(Lookup(text.substr(i + 1, close - i - 1), fields, &value));
    result += value;
    i = close;
  }
  *out = std::move(result);
  return Status::OK();
}

}  // namespace verdi::publish
