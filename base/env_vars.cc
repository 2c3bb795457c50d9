#include "base/env_vars.h"

#include <cstdlib>

namespace verdi {
namespace {

bool IsNameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (!first && c >= '0' && c <= '9');
}

constexpr size_t kNoName = std::string::npos;
constexpr size_t kUnclosed = std::string::npos - 1;

/// The end of the variable reference starting at text[dollar] == '$' and its
/// name; kNoName when none starts there, kUnclosed for a '${' with no '}'.
size_t ReferenceEnd(const std::string& text, size_t dollar, std::string* name) {
  size_t start = dollar + 1;
  if (start < text.size() && text[start] == '{') {
    size_t close = text.find('}', start);
    if (close == std::string::npos) return kUnclosed;
    *name = text.substr(start + 1, close - start - 1);
    return close + 1;
  }
  size_t end = start;
  while (end < text.size() && IsNameChar(text[end], end == start)) ++end;
  if (end == start) return kNoName;
  *name = text.substr(start, end - start);
  return end;
}

}  // namespace

std::string ExpandEnvVars(const std::string& text, const EnvLookup& lookup) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t dollar = text.find('$', i);
    out.append(text, i, dollar == std::string::npos ? std::string::npos : dollar - i);
    if (dollar == std::string::npos) break;
    std::string name;
    size_t end = ReferenceEnd(text, dollar, &name);
    if (end == kUnclosed) {
      out.append(text, dollar);
      break;
    }
    if (end == kNoName) {
      out += '$';
      i = dollar + 1;
      continue;
    }
    std::optional<std::string> value = lookup(name);
    out += value ? *value : text.substr(dollar, end - dollar);
    i = end;
  }
  return out;
}

std::string ExpandEnvVars(const std::string& text) {
  return ExpandEnvVars(text, [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return std::string(value != nullptr ? value : "");
  });
}

}  // namespace verdi
