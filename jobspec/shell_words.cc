#include "jobspec/shell_words.h"

#include <fmt/format.h>

namespace verdi {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

Status SplitShellWords(std::string_view text, const std::string& where,
                       std::vector<std::string>* words) {
  std::vector<std::string> out;
  std::string word;
  bool in_word = false;  // a word is open (even an empty quoted one)
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (IsBlank(c)) {
      if (in_word) out.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
    } else if (c == '\'') {
      size_t end = text.find('\'', i + 1);
      if (end == std::string_view::npos)
        return Status::Invalid(fmt::format("{}: no closing quote for ' at character {}", where, i));
      word.append(text.substr(i + 1, end - i - 1));
      in_word = true;
      i = end + 1;
    } else if (c == '"') {
      size_t start = i++;
      for (;;) {
        if (i >= text.size())
          return Status::Invalid(
              fmt::format("{}: no closing quote for \" at character {}", where, start));
        char d = text[i];
        if (d == '"') break;
        if (d == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
          word.push_back(text[i + 1]);
          i += 2;
        } else {
          word.push_back(d);
          ++i;
        }
      }
      in_word = true;
      ++i;
    } else if (c == '\\') {
      if (i + 1 >= text.size())
        return Status::Invalid(fmt::format("{}: a '\\' at the end escapes nothing", where));
      word.push_back(text[i + 1]);
      in_word = true;
      i += 2;
    } else {
      word.push_back(c);
      in_word = true;
      ++i;
    }
  }
  if (in_word) out.push_back(std::move(word));
  *words = std::move(out);
  return Status::OK();
}

std::string ShellQuote(std::string_view word) {
  if (word.empty()) return "''";
  bool safe = true;
  for (char c : word) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '@' || c == '%' || c == '+' || c == '=' || c == ':' || c == ',' ||
              c == '.' || c == '/' || c == '-';
    if (!ok) {
      safe = false;
      break;
    }
  }
  if (safe) return std::string(word);
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'')
      quoted += "'\"'\"'";
    else
      quoted.push_back(c);
  }
  quoted.push_back('\'');
  return quoted;
}

std::string ShellJoin(const std::vector<std::string>& words) {
  std::string line;
  for (const auto& w : words) {
    if (!line.empty()) line.push_back(' ');
    line += ShellQuote(w);
  }
  return line;
}

}  // namespace verdi
