#include "localize/aws_credentials.h"

#include <map>
#include <regex>

#include "localize/credential_files.h"

namespace verdi::localize {

std::string RegionOfEndpoint(const std::string& host) {
  static const std::regex kAws(
      R"(^s3[.-]([a-z]{2}(-gov)?-[a-z]+-[0-9])(\.dualstack)?\.amazonaws\.com(:[0-9]+)?$)");
  std::smatch m;
  if (std::regex_match(host, m, kAws)) return m[1];
  return "";
}

Status LoadAwsCredentials(const std::string& profile, AwsCredentials* out) {
  *out = AwsCredentials();
  std::string creds_file = GetEnv("AWS_SHARED_CREDENTIALS_FILE");
  if (creds_file.empty()) creds_file = HomeDir() + "/.aws/credentials";
  std::string config_file = GetEnv("AWS_CONFIG_FILE");
  if (config_file.empty()) config_file = HomeDir() + "/.aws/config";
  std::string name = profile;
  std::map<std::string, std::string> section;
  if (name.empty() && !GetEnv("AWS_ACCESS_KEY_ID").empty() &&
      !GetEnv("AWS_SECRET_ACCESS_KEY").empty()) {
    out->access_key_id = GetEnv("AWS_ACCESS_KEY_ID");
    out->secret_access_key = GetEnv("AWS_SECRET_ACCESS_KEY");
    out->session_token = GetEnv("AWS_SESSION_TOKEN");
    out->source = "the environment";
  } else {
    if (name.empty()) name = GetEnv("AWS_PROFILE");
    bool explicit_profile = !name.empty();
    if (name.empty()) name = "default";
    bool found = ReadIniSection(creds_file, name, &section);
    if (found && section.count("aws_access_key_id") && section.count("aws_secret_access_key")) {
      out->access_key_id = section["aws_access_key_id"];
      out->secret_access_key = section["aws_secret_access_key"];
      if (section.count("aws_session_token")) out->session_token = section["aws_session_token"];
      out->source = "profile " + name + " of " + creds_file;
    } else if (explicit_profile) {
      return Status::Invalid("AWS profile '" + name + "' has no aws_access_key_id and " +
                             "aws_secret_access_key in " + creds_file);
    }
  }
  out->region = GetEnv("AWS_REGION");
  if (out->region.empty()) out->region = GetEnv("AWS_DEFAULT_REGION");
  if (out->region.empty()) {
    std::map<std::string, std::string> config;
    std::string pname = name.empty() ? GetEnv("AWS_PROFILE") : name;
    std::string want = pname.empty() || pname == "default" ? "default" : "profile " + pname;
    if (ReadIniSection(config_file, want, &config) && config.count("region")) {
      out->region = config["region"];
    } else if (section.count("region")) {
      out->region = section["region"];
    }
  }
  if (out->region.empty()) out->region = "us-east-1";
  return Status::OK();
}

}  // namespace verdi::localize
