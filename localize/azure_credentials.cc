#include "localize/azure_credentials.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "localize/credential_files.h"

namespace verdi::localize {
namespace {

bool SameAccount(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Whether `c`, found in `source`, is for `account` and holds a secret.
bool Fits(AzureCredentials* c, const std::string& account, const std::string& source) {
  if (c->empty() || (!c->account.empty() && !SameAccount(c->account, account))) return false;
  while (!c->sas.empty() && c->sas[0] == '?') c->sas.erase(0, 1);
  while (!c->blob_endpoint.empty() && c->blob_endpoint.back() == '/') c->blob_endpoint.pop_back();
  c->source = source;
  return true;
}

// An account with a key, else with a SAS token.
AzureCredentials AccountAndSecret(std::string name, std::string key, std::string sas) {
  AzureCredentials c;
  c.account = std::move(name);
  if (!key.empty())
    c.key = std::move(key);
  else
    c.sas = std::move(sas);
  return c;
}

}  // namespace

Status ParseAzureConnectionString(const std::string& text, AzureCredentials* out) {
  *out = AzureCredentials();
  for (size_t p = 0; p < text.size();) {
    size_t semi = std::min(text.find(';', p), text.size());
    std::string part = text.substr(p, semi - p);
    p = semi + 1;
    if (part.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    size_t eq = part.find('=');
    if (eq == std::string::npos)
      return Status::Invalid("a connection string part without '=' (Name=value;...)");
    std::string name = part.substr(0, eq), value = part.substr(eq + 1);
    if (name == "AccountName") out->account = value;
    if (name == "AccountKey") out->key = value;
    if (name == "SharedAccessSignature") out->sas = value;
    if (name == "BlobEndpoint") out->blob_endpoint = value;
  }
  return Status::OK();
}

Status LoadAzureCredentials(const std::string& account, AzureCredentials* out) {
  *out = AzureCredentials();
  AzureCredentials c;
  if (std::string cs = GetEnv("AZURE_STORAGE_CONNECTION_STRING"); !cs.empty()) {
    Status st = ParseAzureConnectionString(cs, &c);
    if (!st.ok()) return st.WithPrefix("AZURE_STORAGE_CONNECTION_STRING");
    if (Fits(&c, account, "AZURE_STORAGE_CONNECTION_STRING")) {
      *out = c;
      return Status::OK();
    }
  }
  c = AccountAndSecret(GetEnv("AZURE_STORAGE_ACCOUNT"), GetEnv("AZURE_STORAGE_KEY"),
                       GetEnv("AZURE_STORAGE_SAS_TOKEN"));
  if (Fits(&c, account, c.key.empty() ? "AZURE_STORAGE_SAS_TOKEN" : "AZURE_STORAGE_KEY")) {
    *out = c;
    return Status::OK();
  }
  std::string dir = GetEnv("AZURE_CONFIG_DIR");
  std::string file = (dir.empty() ? HomeDir() + "/.azure" : dir) + "/config";
  std::map<std::string, std::string> storage;
  if (!ReadIniSection(file, "storage", &storage)) return Status::OK();
  if (!storage["connection_string"].empty()) {
    Status st = ParseAzureConnectionString(storage["connection_string"], &c);
    if (!st.ok()) return st.WithPrefix(file + ": [storage] connection_string");
    if (Fits(&c, account, "the connection string of " + file)) *out = c;
    return Status::OK();
  }
  c = AccountAndSecret(storage["account"], storage["key"], storage["sas_token"]);
  if (Fits(&c, account, file)) *out = c;
  return Status::OK();
}

}  // namespace verdi::localize
