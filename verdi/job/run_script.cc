#include "verdi/job/run_script.h"

#include <algorithm>
#include <string_view>

#include "jobspec/shell_words.h"

namespace verdi {
namespace {

bool LooksSecret(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  for (std::string_view word : {"SECRET", "PASSWORD", "TOKEN", "CREDENTIAL"})
    if (upper.find(word) != std::string::npos) return true;
  return upper.size() >= 4 && upper.compare(upper.size() - 4, 4, "_KEY") == 0;
}

// One comment line whatever the value holds.
std::string OneLine(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else
      out.push_back(c);
  }
  return out;
}

}  // namespace

std::string RunScript(const std::vector<std::string>& worker_env,
                      const std::vector<EnvVar>& command_env,
                      const std::vector<std::string>& argv) {
  std::string script = "#!/bin/bash\n\n";
  for (const auto& entry : worker_env) {
    size_t eq = entry.find('=');
    std::string_view name = std::string_view(entry).substr(0, eq);
    std::string_view value =
        eq == std::string::npos ? std::string_view() : std::string_view(entry).substr(eq + 1);
    script += "#" + std::string(name) + "=" + (LooksSecret(name) ? "***" : OneLine(value)) + "\n";
  }
  script += "\n";
  for (const auto& var : command_env)
    script += "export " + var.key + "=" + ShellQuote(var.value) + "\n";
  script += "\n" + ShellJoin(argv) + "\n";
  return script;
}

}  // namespace verdi
