// Settings files as Celery and HySDS users have them: a celeryconfig.py,
// evaluated without Python (python_config.h), or the same keys in a JSON
// object; Celery's old setting names read under their new names, as Celery
// reads them (celery_setting_names.h).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/env_vars.h"
#include "jobspec/json_field.h"

namespace verdi {

/// One setting of a file.
struct ConfigEntry {
  /// The value; meaningful when `error` is empty.
  Json value;
  /// Not empty when the file's expression for it is not evaluated: why.
  std::string error;
  /// Where it is (0 in a JSON file): its value, or the problem in it.
  int line = 0, column = 0;
  /// The name as the file writes it: an old Celery name (BROKER_URL) for a
  /// setting kept under its new one (broker_url).
  std::string name_in_file;
};

struct ConfigFile {
  std::string path;
  /// By name: Celery's new names for Celery's settings, the file's names
  /// for the others (HySDS's ROOT_WORK_DIR, ...).
  std::map<std::string, ConfigEntry> entries;
  /// What the file holds that no setting comes from, one line each without
  /// the path: statements not run ("12:1: `app.conf.update(...)`: ..."),
  /// names Celery does not read ("5:1: CELERY_ACKS_LATE: not read: ...").
  std::vector<std::string> notes;

  /// "path:line:column: name" of an entry (for JSON "path: name").
  std::string Where(const std::string& name) const;
};

/// Reads `path`: JSON when its first non-blank character is '{', else
/// Python. `env` gives the environment variables the file may read.
/// Invalid ("path:line:column: ...") when Python itself would refuse the
/// file (see EvaluatePythonConfig) and when it mixes Celery's old and new
/// setting names as Celery refuses.
Status ReadConfigFile(const std::string& path, const EnvLookup& env, ConfigFile* out);

/// The same, from text; `where` stands for the path.
Status ParseConfigText(const std::string& text, const std::string& where, const EnvLookup& env,
                       ConfigFile* out);

/// The file of a Celery configuration module, found as Python imports it:
/// `celeryconfig` or `proj.settings` as <name with / for .>.py in the
/// working directory, then in each directory of PYTHONPATH. An existing
/// file, or a name with a '/' or ending in .py or .json, is a file name
/// already. Empty when there is no such file.
std::string FindConfigModule(const std::string& module);

/// The process's environment (getenv), for ReadConfigFile.
std::optional<std::string> ProcessEnv(const std::string& name);

}  // namespace verdi
