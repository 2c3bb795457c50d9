// Shell words: splitting a command string as POSIX shells (and Python's
// shlex.split) do, and quoting words so a shell reads them back unchanged.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace verdi {

/// Splits `text` into words with POSIX shell quoting rules exactly as
/// Python's shlex.split does (HySDS splits `_command` with it): whitespace
/// separates words; '...' keeps everything literally; in "..." a \ escapes
/// only " and \; an unquoted \ escapes any next character. No expansion.
/// Unterminated quotes or a trailing \ are errors naming `where`.
Status SplitShellWords(std::string_view text, const std::string& where,
                       std::vector<std::string>* words);

/// Quotes one word for a POSIX shell, as Python's shlex.quote: left as is
/// when it only has safe characters, else in single quotes with each ' as
/// '"'"'. The empty word becomes ''.
std::string ShellQuote(std::string_view word);

/// The words quoted and joined with single spaces.
std::string ShellJoin(const std::vector<std::string>& words);

}  // namespace verdi
