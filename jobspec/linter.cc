#include "jobspec/linter.h"

#include <algorithm>
#include <cctype>

#include "jobspec/python_regex.h"

namespace verdi {
namespace lint {

bool CompileRegex(const std::string& pattern, std::string* error, std::set<std::string>* names) {
  PythonRegex re;
  Status st = PythonRegex::Compile(pattern, "", &re);
  if (!st.ok()) {
    *error = st.message().substr(st.message().find("compile: ") + 9);
    return false;
  }
  if (names != nullptr) names->insert(re.names().begin(), re.names().end());
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
