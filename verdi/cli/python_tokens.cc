#include "verdi/cli/python_tokens.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <set>

#include <fmt/format.h>

namespace verdi {
namespace {

bool IsIdStart(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalpha(u) || c == '_' || u >= 0x80;  // non-ASCII: Unicode identifiers
}
bool IsIdChar(char c) { return IsIdStart(c) || std::isdigit(static_cast<unsigned char>(c)); }
bool IsDec(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool IsOct(char c) { return c >= '0' && c <= '7'; }
bool IsBin(char c) { return c == '0' || c == '1'; }

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Longest first.
constexpr const char* kOperators[] = {
    "**=", "//=", ">>=", "<<=", "...", "**", "//", "==", "!=", "<=", ">=", "->",
    ":=",  "+=",  "-=",  "*=",  "/=",  "%=", "&=", "|=", "^=", "@=", "<<", ">>",
    "+",   "-",   "*",   "/",   "%",   "@",  "&",  "|",  "^",  "~",  "<",  ">",
    "(",   ")",   "[",   "]",   "{",   "}",  ",",  ":",  ".",  ";",  "=",
};

class Tokenizer {
 public:
  Tokenizer(const std::string& text, const std::string& where, std::vector<PyToken>* out)
      : s_(text), where_(where), out_(out) {}

  Status Run() {
    bool logical_start = true;  // the next token starts a logical line
    int indent = 0;
    while (i_ < s_.size()) {
      if (logical_start && brackets_.empty() && Col() == 1) indent = MeasureIndent();
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\f') {
        ++i_;
      } else if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n' && s_[i_] != '\r') ++i_;
      } else if (c == '\\') {
        size_t next = i_ + 1;
        if (next < s_.size() && (s_[next] == '\n' || s_[next] == '\r')) {
          i_ = next;
          NewLine();
        } else {
          return Error(line_, Col(), "unexpected character after line continuation character");
        }
      } else if (c == '\n' || c == '\r') {
        NewLine();
        if (brackets_.empty() && !logical_start) {
          Emit(PyToken::kNewline, "", line_ - 1, 0);
          logical_start = true;
        }
      } else {
        PyToken token;
        token.line = line_;
        token.column = Col();
        if (logical_start) token.indent = indent;
        logical_start = false;
        VERDI_RETURN_IF_ERROR(Token(&token));
        out_->push_back(std::move(token));
      }
    }
    if (!brackets_.empty()) {
      const auto& [bracket, line, column] = brackets_.back();
      return Error(line, column, fmt::format("'{}' was never closed", bracket));
    }
    if (!logical_start) Emit(PyToken::kNewline, "", line_, Col());
    Emit(PyToken::kEnd, "", line_, Col());
    return Status::OK();
  }

 private:
  int Col() const { return static_cast<int>(i_ - line_start_) + 1; }

  Status Error(int line, int column, const std::string& message) const {
    return PyInvalid(where_, line, column, message);
  }

  void Emit(PyToken::Kind kind, std::string text, int line, int column) {
    PyToken token;
    token.kind = kind;
    token.text = std::move(text);
    token.line = line;
    token.column = column;
    out_->push_back(std::move(token));
  }

  // At s_[i_], a '\n', '\r' or "\r\n": consumed.
  void NewLine() {
    if (s_[i_] == '\r' && i_ + 1 < s_.size() && s_[i_ + 1] == '\n') ++i_;
    ++i_;
    ++line_;
    line_start_ = i_;
  }

  // Leaves i_ at the first character that is not indentation.
  int MeasureIndent() {
    int indent = 0;
    for (; i_ < s_.size(); ++i_) {
      if (s_[i_] == ' ')
        ++indent;
      else if (s_[i_] == '\t')
        indent = (indent / 8 + 1) * 8;
      else if (s_[i_] == '\f')
        indent = 0;
      else
        break;
    }
    return indent;
  }

  Status Token(PyToken* t) {
    char c = s_[i_];
    if (IsIdStart(c)) {
      size_t start = i_;
      while (i_ < s_.size() && IsIdChar(s_[i_])) ++i_;
      std::string name = s_.substr(start, i_ - start);
      std::string lower;
      for (char ch : name) lower.push_back(static_cast<char>(std::tolower(ch)));
      bool prefix = lower == "r" || lower == "u" || lower == "b" || lower == "f" || lower == "br" ||
                    lower == "rb" || lower == "fr" || lower == "rf";
      if (prefix && i_ < s_.size() && (s_[i_] == '\'' || s_[i_] == '"'))
        return String(lower, start, t);
      t->kind = PyToken::kName;
      t->text = std::move(name);
      return Status::OK();
    }
    if (IsDec(c) || (c == '.' && i_ + 1 < s_.size() && IsDec(s_[i_ + 1]))) return Number(t);
    if (c == '\'' || c == '"') return String("", i_, t);
    for (const char* op : kOperators) {
      std::string_view o(op);
      if (s_.compare(i_, o.size(), o) != 0) continue;
      t->kind = PyToken::kOp;
      t->text = std::string(o);
      i_ += o.size();
      return Bracket(*t);
    }
    return Error(line_, Col(), fmt::format("invalid character '{}'", c));
  }

  Status Bracket(const PyToken& t) {
    const std::string& o = t.text;
    if (o == "(" || o == "[" || o == "{") {
      brackets_.push_back({o[0], t.line, t.column});
    } else if (o == ")" || o == "]" || o == "}") {
      if (brackets_.empty()) return Error(t.line, t.column, fmt::format("unmatched '{}'", o));
      char open = std::get<0>(brackets_.back());
      char want = open == '(' ? ')' : open == '[' ? ']' : '}';
      if (o[0] != want)
        return Error(t.line, t.column,
                     fmt::format("closing parenthesis '{}' does not match opening parenthesis '{}'",
                                 o, open));
      brackets_.pop_back();
    }
    return Status::OK();
  }

  // Digits of `is_digit` with single underscores between them: 1 read, 0
  // none there, -1 a misplaced underscore.
  int Digits(bool (*is_digit)(char)) {
    if (i_ >= s_.size() || !is_digit(s_[i_])) return 0;
    for (;;) {
      while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
      if (i_ >= s_.size() || s_[i_] != '_') return 1;
      if (i_ + 1 >= s_.size() || !is_digit(s_[i_ + 1])) return -1;
      ++i_;
    }
  }

  Status Number(PyToken* t) {
    t->kind = PyToken::kNumber;
    size_t start = i_;
    auto bad = [&](const char* what) {
      return Error(t->line, t->column, fmt::format("invalid {} literal", what));
    };
    auto clean = [&](size_t from) {
      std::string digits;
      for (size_t k = from; k < i_; ++k)
        if (s_[k] != '_') digits.push_back(s_[k]);
      return digits;
    };
    char x = i_ + 1 < s_.size() ? static_cast<char>(std::tolower(s_[i_ + 1])) : 0;
    if (s_[i_] == '0' && (x == 'x' || x == 'o' || x == 'b')) {
      bool (*is_digit)(char) = x == 'x' ? IsHex : x == 'o' ? IsOct : IsBin;
      const char* what = x == 'x' ? "hexadecimal" : x == 'o' ? "octal" : "binary";
      i_ += 2;
      if (i_ < s_.size() && s_[i_] == '_') ++i_;
      size_t digits_start = i_;
      if (Digits(is_digit) != 1 || (i_ < s_.size() && IsIdChar(s_[i_]))) return bad(what);
      t->text = s_.substr(start, i_ - start);
      std::string digits = clean(digits_start);
      uint64_t v = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v,
                                       x == 'x'   ? 16
                                       : x == 'o' ? 8
                                                  : 2);
      if (ec != std::errc() || v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        t->unsupported = "integers beyond 64 bits";
      else
        t->value = static_cast<int64_t>(v);
      return Status::OK();
    }
    bool is_float = false;
    int int_part = Digits(IsDec);
    if (int_part < 0) return bad("decimal");
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      is_float = true;
      if (Digits(IsDec) < 0) return bad("decimal");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      size_t k = i_ + 1;
      if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
      if (k >= s_.size() || !IsDec(s_[k])) return bad("decimal");
      i_ = k;
      if (Digits(IsDec) < 0) return bad("decimal");
      is_float = true;
    }
    bool imaginary = i_ < s_.size() && (s_[i_] == 'j' || s_[i_] == 'J');
    if (imaginary) ++i_;
    if (i_ < s_.size() && IsIdChar(s_[i_])) return bad("decimal");
    t->text = s_.substr(start, i_ - start);
    std::string digits = clean(start);
    if (imaginary) {
      t->unsupported = "imaginary numbers";
    } else if (!is_float) {
      if (digits.size() > 1 && digits[0] == '0' &&
          digits.find_first_not_of('0') != std::string::npos)
        return Error(t->line, t->column,
                     "leading zeros in decimal integer literals are not permitted; use an 0o "
                     "prefix for octal integers");
      int64_t v = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (ec != std::errc())
        t->unsupported = "integers beyond 64 bits";
      else
        t->value = v;
    } else {
      double v = std::strtod(digits.c_str(), nullptr);
      if (v == std::numeric_limits<double>::infinity())
        t->unsupported = "infinite numbers";
      else
        t->value = v;
    }
    return Status::OK();
  }

  // Hex digits of an escape, exactly `count` of them.
  bool HexEscape(size_t count, uint32_t* cp) {
    *cp = 0;
    for (size_t k = 0; k < count; ++k) {
      if (i_ >= s_.size() || !IsHex(s_[i_])) return false;
      char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s_[i_])));
      *cp = *cp * 16 + static_cast<uint32_t>(IsDec(c) ? c - '0' : c - 'a' + 10);
      ++i_;
    }
    return true;
  }

  // From s_[i_], the opening quote; `prefix` lowercased, starting at `start`.
  Status String(const std::string& prefix, size_t start, PyToken* t) {
    t->kind = PyToken::kString;
    bool raw = prefix.find('r') != std::string::npos;
    bool bytes = prefix.find('b') != std::string::npos;
    bool fstring = prefix.find('f') != std::string::npos;
    char q = s_[i_];
    bool triple = s_.compare(i_, 3, std::string(3, q)) == 0;
    i_ += triple ? 3 : 1;
    std::string value;
    for (;;) {
      if (i_ >= s_.size())
        return Error(
            t->line, t->column,
            triple ? "unterminated triple-quoted string literal" : "unterminated string literal");
      char c = s_[i_];
      if (c == '\n' || c == '\r') {
        if (!triple) return Error(t->line, t->column, "unterminated string literal");
        NewLine();
        value.push_back('\n');
        continue;
      }
      if (c == q && (!triple || s_.compare(i_, 3, std::string(3, q)) == 0)) {
        i_ += triple ? 3 : 1;
        break;
      }
      if (c != '\\') {
        value.push_back(c);
        ++i_;
        continue;
      }
      if (i_ + 1 >= s_.size())
        return Error(
            t->line, t->column,
            triple ? "unterminated triple-quoted string literal" : "unterminated string literal");
      char e = s_[i_ + 1];
      if (e == '\n' || e == '\r') {
        ++i_;
        NewLine();
        if (raw) value += "\\\n";
        continue;
      }
      if (raw) {
        value.push_back('\\');
        value.push_back(e);
        i_ += 2;
        continue;
      }
      int esc_column = Col();
      i_ += 2;
      uint32_t cp = 0;
      switch (e) {
        case '\\':
        case '\'':
        case '"':
          value.push_back(e);
          break;
        case 'a':
          value.push_back('\a');
          break;
        case 'b':
          value.push_back('\b');
          break;
        case 'f':
          value.push_back('\f');
          break;
        case 'n':
          value.push_back('\n');
          break;
        case 'r':
          value.push_back('\r');
          break;
        case 't':
          value.push_back('\t');
          break;
        case 'v':
          value.push_back('\v');
          break;
        case 'x':
          if (!HexEscape(2, &cp))
            return Error(line_, esc_column, "truncated \\xXX escape in a string literal");
          AppendUtf8(&value, cp);
          break;
        case 'u':
        case 'U':
          if (bytes) {
            value.push_back('\\');
            value.push_back(e);
            break;
          }
          if (!HexEscape(e == 'u' ? 4 : 8, &cp) || cp > 0x10FFFF)
            return Error(
                line_, esc_column,
                fmt::format("truncated or out of range \\{} escape in a string literal", e));
          if (cp >= 0xD800 && cp <= 0xDFFF) t->unsupported = "surrogate code points";
          AppendUtf8(&value, cp);
          break;
        case 'N':
          if (bytes) {
            value += "\\N";
            break;
          }
          t->unsupported = "\\N{...} escapes";
          while (i_ < s_.size() && s_[i_] != '}' && s_[i_] != q && s_[i_] != '\n') ++i_;
          if (i_ < s_.size() && s_[i_] == '}') ++i_;
          break;
        default:
          if (IsOct(e)) {
            cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && i_ < s_.size() && IsOct(s_[i_]); ++k, ++i_)
              cp = cp * 8 + static_cast<uint32_t>(s_[i_] - '0');
            AppendUtf8(&value, cp);
          } else {
            value.push_back('\\');  // an unknown escape is kept as written
            value.push_back(e);
          }
      }
    }
    t->text = s_.substr(start, i_ - start);
    t->string_kind = bytes ? 'b' : 's';
    if (fstring) {
      // {{ and }} are literal braces; any other brace is a field.
      std::string plain;
      for (size_t k = 0; k < value.size(); ++k) {
        char c = value[k];
        if ((c == '{' || c == '}') && k + 1 < value.size() && value[k + 1] == c) {
          plain.push_back(c);
          ++k;
        } else if (c == '{' || c == '}') {
          t->string_kind = 'f';
          break;
        } else {
          plain.push_back(c);
        }
      }
      if (t->string_kind != 'f') value = plain;
    }
    t->value = std::move(value);
    return Status::OK();
  }

  const std::string& s_;
  const std::string& where_;
  std::vector<PyToken>* out_;
  size_t i_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
  std::vector<std::tuple<char, int, int>> brackets_;  // open bracket, line, column
};

}  // namespace

bool IsPythonKeyword(std::string_view name) {
  static const std::set<std::string, std::less<>> kKeywords = {
      "False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
      "class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
      "from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
      "or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield"};
  return kKeywords.count(name) > 0;
}

Status PyInvalid(const std::string& where, int line, int column, const std::string& message) {
  return Status::Invalid(fmt::format("{}:{}:{}: {}", where, line, column, message));
}

Status TokenizePython(const std::string& text, const std::string& where,
                      std::vector<PyToken>* out) {
  out->clear();
  return Tokenizer(text, where, out).Run();
}

}  // namespace verdi
