// Python source cut into tokens as Python's own tokenizer does, for the
// celeryconfig.py reader (python_config.h): names, numbers, strings,
// operators and the ends of logical lines.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "jobspec/json_field.h"

namespace verdi {

struct PyToken {
  enum Kind { kName, kNumber, kString, kOp, kNewline, kEnd };
  Kind kind = kEnd;
  /// A name or an operator as written; a number or string as written too.
  std::string text;
  int line = 0, column = 0;  // 1-based
  /// The first token of a logical line: its indentation (a tab to the next
  /// multiple of 8); -1 on the others.
  int indent = -1;
  /// kNumber: the value (an integer or a float); kString: the decoded text.
  Json value;
  /// kString: 'b' for bytes, 'f' for an f-string with {fields}, 's' else.
  char string_kind = 's';
  /// A number or string this reader cannot represent (an imaginary number,
  /// an integer beyond 64 bits, a \N{...} escape): why.
  std::string unsupported;

  bool is_op(std::string_view op) const { return kind == kOp && text == op; }
  bool is_name(std::string_view name) const { return kind == kName && text == name; }
};

/// Whether `name` is one of Python's keywords (the soft ones, such as
/// `match`, are names).
bool IsPythonKeyword(std::string_view name);

/// Invalid("where:line:column: message"): how the reader reports what makes
/// Python refuse a file, from the tokenizer to the evaluator's exceptions.
Status PyInvalid(const std::string& where, int line, int column, const std::string& message);

/// Tokenizes `text`. Comments, blank lines, backslash continuations and
/// line breaks inside brackets produce nothing; each logical line ends with
/// one kNewline, the text with kEnd. Invalid ("where:line:column: ...") on
/// what Python's tokenizer refuses: an unterminated string, an unbalanced
/// bracket, a malformed number, a stray character.
Status TokenizePython(const std::string& text, const std::string& where, std::vector<PyToken>* out);

}  // namespace verdi
