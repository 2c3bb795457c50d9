#include "verdi/cli/config_file.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "base/files.h"

namespace verdi {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Calls `f(i, c)` for each character of `s` outside string quotes (a
// backslash escapes the next character inside them); stops when f is false.
template <typename F>
void ForEachUnquoted(std::string_view s, F f) {
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (!f(i, c)) {
      return;
    }
  }
}

// A trailing "# comment" outside quotes.
std::string_view StripComment(std::string_view s) {
  size_t end = s.size();
  ForEachUnquoted(s, [&](size_t i, char c) {
    if (c != '#') return true;
    end = i;
    return false;
  });
  return s.substr(0, end);
}

// A Python literal on one line, as JSON; false when it is something else.
bool ParseLiteral(std::string_view text, Json* out) {
  if (text == "True") return *out = true, true;
  if (text == "False") return *out = false, true;
  if (text == "None") return *out = nullptr, true;
  if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
      text.back() == text.front()) {
    std::string value;
    for (size_t i = 1; i + 1 < text.size(); ++i) {
      char c = text[i];
      if (c == text.front()) return false;  // "a" "b" or 'a' + 'b': not one literal
      if (c == '\\' && i + 2 < text.size()) {
        char e = text[++i];
        value.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
      } else {
        value.push_back(c);
      }
    }
    *out = value;
    return true;
  }
  Json number = Json::parse(text.begin(), text.end(), nullptr, false);
  if (number.is_number()) return *out = number, true;
  return false;
}

// Net count of open brackets on a line, outside strings.
int BracketDepth(std::string_view s) {
  int depth = 0;
  ForEachUnquoted(s, [&](size_t, char c) {
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') --depth;
    return true;
  });
  return depth;
}

bool IsName(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

}  // namespace

Status ParseConfigText(const std::string& text, const std::string& where,
                       const std::vector<std::string>& required,
                       std::map<std::string, Json>* settings) {
  std::string_view trimmed = Trim(text);
  if (!trimmed.empty() && trimmed.front() == '{') {
    Json doc;
    VERDI_RETURN_IF_ERROR(ParseJsonText(text, where, &doc));
    for (const auto& [key, value] : doc.items()) (*settings)[key] = value;
    return Status::OK();
  }
  int depth = 0;
  size_t line_no = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line = StripComment(std::string_view(text).substr(start, end - start));
    start = end + 1;
    ++line_no;
    bool top_level =
        depth == 0 && !line.empty() && !std::isspace(static_cast<unsigned char>(line[0]));
    depth = std::max(0, depth + BracketDepth(line));
    if (!top_level) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || (eq + 1 < line.size() && line[eq + 1] == '=')) continue;
    std::string_view name = Trim(line.substr(0, eq));
    if (!IsName(name)) continue;
    Json value;
    if (ParseLiteral(Trim(line.substr(eq + 1)), &value)) {
      (*settings)[std::string(name)] = value;
    } else if (std::find(required.begin(), required.end(), name) != required.end()) {
      return Status::Invalid(fmt::format(
          "{}:{}: {}: expected a plain value (a string, number, True, False or None), got \"{}\"",
          where, line_no, name, Trim(line.substr(eq + 1))));
    }
  }
  return Status::OK();
}

Status ReadConfigFile(const std::string& path, const std::vector<std::string>& required,
                      std::map<std::string, Json>* settings) {
  std::string text;
  VERDI_RETURN_IF_ERROR(ReadFileToString(path, &text));
  return ParseConfigText(text, path, required, settings);
}

}  // namespace verdi
