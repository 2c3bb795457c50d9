#include "localize/gs_credentials.h"

#include <map>
#include <vector>

#include "localize/credential_files.h"

namespace verdi::localize {

GsCredentials LoadGsCredentials() {
  GsCredentials out;
  if (!GetEnv("GS_ACCESS_KEY_ID").empty() && !GetEnv("GS_SECRET_ACCESS_KEY").empty()) {
    out.access_id = GetEnv("GS_ACCESS_KEY_ID");
    out.secret = GetEnv("GS_SECRET_ACCESS_KEY");
    out.source = "GS_ACCESS_KEY_ID";
    return out;
  }
  std::vector<std::string> files;
  if (!GetEnv("BOTO_CONFIG").empty())
    files = {GetEnv("BOTO_CONFIG")};
  else
    files = {HomeDir() + "/.boto", "/etc/boto.cfg"};
  for (const std::string& file : files) {
    std::map<std::string, std::string> section;
    if (!ReadIniSection(file, "Credentials", &section)) continue;
    if (section["gs_access_key_id"].empty() || section["gs_secret_access_key"].empty()) continue;
    out.access_id = section["gs_access_key_id"];
    out.secret = section["gs_secret_access_key"];
    out.source = file;
    return out;
  }
  return out;
}

}  // namespace verdi::localize
