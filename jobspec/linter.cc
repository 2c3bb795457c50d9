#include "jobspec/linter.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cctype>

namespace verdi {
namespace lint {

// Compiles a Python regex with PCRE2; on success the named groups are added
// to `names`, else `error` says why.
bool CompileRegex(const std::string& pattern, std::string* error, std::set<std::string>* names) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 PCRE2_UTF | PCRE2_ALT_BSUX, &code, &offset, nullptr);
  if (re == nullptr) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(code, buffer, sizeof buffer);
    *error = fmt::format("{} at offset {}", reinterpret_cast<const char*>(buffer), offset);
    return false;
  }
  uint32_t count = 0, entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count);
  pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table);
  for (uint32_t i = 0; i < count && names != nullptr; ++i)
    names->insert(reinterpret_cast<const char*>(table + i * entry_size + 2));
  pcre2_code_free(re);
  return true;
}

int Levenshtein(std::string_view a, std::string_view b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diag = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string Normalize(std::string_view key) {
  std::string out;
  for (char c : key) out += c == '-' ? '_' : static_cast<char>(std::tolower(c));
  return out;
}

}  // namespace lint

std::string NearestKey(std::string_view key, const std::vector<std::string_view>& known) {
  using lint::Levenshtein;
  using lint::Normalize;

  std::string norm = Normalize(key);
  std::string best;
  int best_distance = 4;
  for (std::string_view candidate : known) {
    std::string cn = Normalize(candidate);
    int d;
    if (cn == norm) {
      d = 0;
    } else if (norm.size() >= 3 && (cn.starts_with(norm) || norm.starts_with(cn))) {
      d = 1;
    } else {
      d = Levenshtein(norm, cn);
      if (d >= static_cast<int>(std::min(norm.size(), cn.size()))) continue;
    }
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

}  // namespace verdi
