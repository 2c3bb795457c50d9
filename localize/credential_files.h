// What the credential loaders (AWS, GCS, Azure) share: environment
// variables, the home directory, and the INI files their tools write.
#pragma once

#include <map>
#include <string>

namespace verdi::localize {

/// The variable's value, "" when unset.
std::string GetEnv(const char* name);

/// $HOME, else /root.
std::string HomeDir();

/// The `key = value` lines of the section [name] of the INI file at
/// `path` (keys and values trimmed; '#' and ';' lines are comments). False
/// when the file or the section is not there.
bool ReadIniSection(const std::string& path, const std::string& name,
                    std::map<std::string, std::string>* out);

}  // namespace verdi::localize
