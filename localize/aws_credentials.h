// AWS credentials and region, found where the AWS CLI finds them: the
// environment, then the shared credentials and config files.
#pragma once

#include <string>

#include "base/status.h"

namespace verdi::localize {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty when none
  std::string region;
  /// Where they came from ("the environment", "profile NAME of FILE"), for
  /// messages; never holds a secret.
  std::string source;
  bool empty() const { return access_key_id.empty(); }
};

/// The credentials for `profile`:
/// - no profile: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+
///   AWS_SESSION_TOKEN) when both are set, else the profile AWS_PROFILE (or
///   "default") of the credentials file, else none (out->empty(): requests
///   go unsigned); a missing default profile is not an error;
/// - a named profile (BUCKET_PROFILES): that profile of the credentials
///   file; the environment is not consulted, as boto3 does with an explicit
///   profile, and a missing profile is an error naming it and the file.
/// The credentials file is AWS_SHARED_CREDENTIALS_FILE, else
/// ~/.aws/credentials (keys aws_access_key_id, aws_secret_access_key,
/// aws_session_token). The region is AWS_REGION, else AWS_DEFAULT_REGION,
/// else `region` of the profile in the config file (AWS_CONFIG_FILE, else
/// ~/.aws/config; section "[profile NAME]", or "[default]") or in the
/// credentials file, else us-east-1.
Status LoadAwsCredentials(const std::string& profile, AwsCredentials* out);

/// The region named by an AWS S3 endpoint host ("s3.us-west-2.amazonaws.com",
/// "s3-us-west-2.amazonaws.com"), or "" for any other host.
std::string RegionOfEndpoint(const std::string& host);

}  // namespace verdi::localize
