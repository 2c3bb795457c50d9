// Which key of a settings file fills which flag of `verdi worker` (flag >
// environment > file > default), the keys only a file can give (task_queues,
// broker_use_ssl, task_default_*), and the rest of a file: each key verdi
// does not use named in one warning.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "verdi/cli/config_file.h"
#include "verdi/cli/worker_flags.h"

namespace verdi {

/// Where each setting came from, for --print-config.
class SettingSources {
 public:
  /// "flag", "environment NAME", "file PATH:LINE:COLUMN: KEY" or "default".
  std::string Of(const CLI::Option* option) const;
  /// The same for a setting only a file gives, by its key.
  std::string OfKey(const std::string& key) const;

  void SetFile(const CLI::Option* option, std::string where) {
    options_[option] = std::move(where);
  }
  void SetFile(const std::string& key, std::string where) { keys_[key] = std::move(where); }

 private:
  std::map<const CLI::Option*, std::string> options_;
  std::map<std::string, std::string> keys_;
};

/// Fills from `file` every flag of `cmd` that neither its command line nor
/// its environment variable gave, and `flags`' settings that only a file
/// gives. `warnings` gets one line for each key verdi does not use and for
/// each note of the file ("PATH:LINE:COLUMN: KEY: not used by verdi").
/// Invalid, naming the file, line, column and key, for a value a key verdi
/// uses cannot take or an expression it does not evaluate.
Status ApplyConfigFile(const ConfigFile& file, CLI::App* cmd, WorkerFlags* flags,
                       SettingSources* sources, std::vector<std::string>* warnings);

}  // namespace verdi
