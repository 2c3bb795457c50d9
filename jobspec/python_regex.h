// Python-syntax regular expressions (datasets.json's match_pattern, ...)
// through PCRE2: `(?P<name>...)` groups, `\uXXXX` escapes, re.search().
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "base/status.h"

namespace verdi {

/// A compiled Python regex. Movable, not copyable.
class PythonRegex {
 public:
  PythonRegex();
  ~PythonRegex();
  PythonRegex(PythonRegex&&) noexcept;
  PythonRegex& operator=(PythonRegex&&) noexcept;

  /// Compiles `pattern`; Invalid "<what>: regex does not compile: <why> at
  /// offset N" when it does not.
  static Status Compile(const std::string& pattern, const std::string& what, PythonRegex* out);

  /// The names of its named groups.
  const std::set<std::string>& names() const { return names_; }

  /// Python's re.search: true when the pattern matches somewhere in
  /// `subject`; `groups` (if given) gets every named group that took part.
  bool Search(const std::string& subject, std::map<std::string, std::string>* groups) const;

 private:
  struct Code;
  std::unique_ptr<Code> code_;
  std::set<std::string> names_;
};

}  // namespace verdi
