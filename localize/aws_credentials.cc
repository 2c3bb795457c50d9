#include "localize/aws_credentials.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>

namespace verdi::localize {
namespace {

std::string GetEnv(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string Home() {
  std::string home = GetEnv("HOME");
  return home.empty() ? "/root" : home;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// The `key = value` lines of section [name] of an INI file. False when the
// file or the section is not there.
bool ReadSection(const std::string& path, const std::string& name,
                 std::map<std::string, std::string>* out) {
  std::ifstream in(path);
  if (!in) return false;
  bool found = false, inside = false;
  std::string line;
  while (std::getline(in, line)) {
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      inside = Trim(t.substr(1, t.size() - 2)) == name;
      found = found || inside;
      continue;
    }
    size_t eq = t.find('=');
    if (inside && eq != std::string::npos) (*out)[Trim(t.substr(0, eq))] = Trim(t.substr(eq + 1));
  }
  return found;
}

}  // namespace

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
  if (creds_file.empty()) creds_file = Home() + "/.aws/credentials";
  std::string config_file = GetEnv("AWS_CONFIG_FILE");
  if (config_file.empty()) config_file = Home() + "/.aws/config";
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
    bool found = ReadSection(creds_file, name, &section);
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
    if (ReadSection(config_file, want, &config) && config.count("region")) {
      out->region = config["region"];
    } else if (section.count("region")) {
      out->region = section["region"];
    }
  }
  if (out->region.empty()) out->region = "us-east-1";
  return Status::OK();
}

}  // namespace verdi::localize
