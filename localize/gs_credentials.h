// Google Cloud Storage HMAC keys (its S3-compatible XML API), found where
// boto and gsutil find them: the environment, then the boto config file.
#pragma once

#include <string>

namespace verdi::localize {

struct GsCredentials {
  std::string access_id;
  std::string secret;
  /// Where they came from ("GS_ACCESS_KEY_ID", "FILE"), for messages;
  /// never holds a secret.
  std::string source;
  bool empty() const { return access_id.empty(); }
};

/// GS_ACCESS_KEY_ID + GS_SECRET_ACCESS_KEY when both are set, else
/// gs_access_key_id and gs_secret_access_key of the section [Credentials]
/// of the boto config: BOTO_CONFIG when set, else ~/.boto, then
/// /etc/boto.cfg. None found: out->empty() (requests go unsigned).
GsCredentials LoadGsCredentials();

}  // namespace verdi::localize
