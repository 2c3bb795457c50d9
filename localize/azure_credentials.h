// Azure Storage credentials (an account key or a SAS token) and endpoint,
// found where the Azure CLI finds them: a connection string, the
// AZURE_STORAGE_* variables, then the CLI's config file.
#pragma once

#include <string>

#include "base/status.h"

namespace verdi::localize {

struct AzureCredentials {
  std::string account;  // the storage account they are for ("" when not named)
  std::string key;      // the account key (base64), for Shared Key signing
  std::string sas;      // a SAS token: a query, without '?'
  /// A connection string's BlobEndpoint (scheme://host[:port][/path],
  /// without a trailing '/'): requests go there instead of to the URL's
  /// host (an emulator, a private endpoint). "" when none.
  std::string blob_endpoint;
  /// Where they came from ("AZURE_STORAGE_KEY", "the connection string of
  /// FILE"), for messages; never holds a secret.
  std::string source;
  bool empty() const { return key.empty() && sas.empty(); }
};

/// Reads a connection string ("Name=value;Name=value"): AccountName,
/// AccountKey, SharedAccessSignature, BlobEndpoint; other names are
/// ignored. Invalid (naming no value) when a part has no '='.
Status ParseAzureConnectionString(const std::string& text, AzureCredentials* out);

/// The credentials for `account`: the first of these whose account is
/// `account` (or that names none) and that holds a key or a SAS token:
/// 1. AZURE_STORAGE_CONNECTION_STRING;
/// 2. AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY, else with
///    AZURE_STORAGE_SAS_TOKEN;
/// 3. the section [storage] of the CLI's config ($AZURE_CONFIG_DIR/config,
///    else ~/.azure/config): connection_string, else account with key,
///    else with sas_token.
/// None: out->empty() (requests go anonymous: public containers only).
/// Errors name the variable or file of a bad connection string.
Status LoadAzureCredentials(const std::string& account, AzureCredentials* out);

}  // namespace verdi::localize
