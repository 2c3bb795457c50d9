#include "verdi/job/run_script.h"

#include <string_view>

#include "base/redact.h"
#include "jobspec/shell_words.h"

namespace verdi {
namespace {

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
  for (const auto& entry : worker_env) script += "#" + OneLine(RedactEnvEntry(entry)) + "\n";
  script += "\n";
  for (const auto& var : command_env) {
    if (LooksSecret(var.key))
      script += "# " + OneLine(var.key) + ": secret value removed; export it before running\n";
    else if (RedactUrls(var.value) != var.value)
      script += "# " + OneLine(var.key) + ": credentials removed; export it before running\n";
    else
      script += "export " + var.key + "=" + ShellQuote(var.value) + "\n";
  }
  script += "\n" + ShellJoin(argv) + "\n";
  return script;
}

std::vector<std::string> CommandEnvironment(const std::vector<std::string>& base,
                                            const std::vector<EnvVar>& extra) {
  std::vector<std::string> env;
  for (const auto& entry : base) {
    std::string_view name = std::string_view(entry).substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& var : extra) overridden |= var.key == name;
    if (!overridden) env.push_back(entry);
  }
  for (const auto& var : extra) env.push_back(var.key + "=" + var.value);
  return env;
}

}  // namespace verdi
