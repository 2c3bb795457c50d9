#include "localize/azure_shared_key.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>

#include "jobspec/url_escape.h"

namespace verdi::localize {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Runs of white space as one space, none at either end.
std::string Squeeze(const std::string& value) {
  std::string out;
  bool space = false;
  for (unsigned char c : value) {
    if (std::isspace(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(c);
  }
  return out;
}

// A query value as Azure decodes it ('+' is a space).
std::string DecodeQueryValue(std::string v) {
  std::replace(v.begin(), v.end(), '+', ' ');
  return PercentDecode(v);
}

}  // namespace

std::string SharedKeyStringToSign(const std::string& method, const std::string& account,
                                  const std::string& path, const std::string& query,
                                  const std::vector<std::pair<std::string, std::string>>& headers) {
  std::map<std::string, std::string> by_name;  // lowercase name → value
  for (const auto& [name, value] : headers) by_name[Lower(name)] = value;
  auto header = [&](const char* name) {
    auto it = by_name.find(name);
    return it == by_name.end() ? std::string() : it->second;
  };
  std::string length = header("content-length");
  if (length == "0") length.clear();
  std::string out = method + "\n";
  for (const std::string& value :
       {header("content-encoding"), header("content-language"), length, header("content-md5"),
        header("content-type"), header("date"), header("if-modified-since"), header("if-match"),
        header("if-none-match"), header("if-unmodified-since"), header("range")})
    out += value + "\n";
  for (const auto& [name, value] : by_name)  // sorted by name
    if (name.rfind("x-ms-", 0) == 0) out += name + ":" + Squeeze(value) + "\n";
  out += "/" + account + path;
  std::map<std::string, std::vector<std::string>> params;
  for (size_t p = 0; p < query.size();) {
    size_t amp = std::min(query.find('&', p), query.size());
    std::string param = query.substr(p, amp - p);
    p = amp + 1;
    if (param.empty()) continue;
    size_t eq = param.find('=');
    std::string value = eq == std::string::npos ? "" : param.substr(eq + 1);
    params[Lower(DecodeQueryValue(param.substr(0, eq)))].push_back(DecodeQueryValue(value));
  }
  for (auto& [name, values] : params) {
    std::sort(values.begin(), values.end());
    out += "\n" + name + ":";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i];
  }
  return out;
}

Status SharedKeySignature(const std::string& key, const std::string& string_to_sign,
                          std::string* signature) {
  signature->clear();
  std::string raw((key.size() / 4 + 1) * 3, '\0');
  int n = key.empty() || key.size() % 4 != 0
              ? -1
              : EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                                reinterpret_cast<const unsigned char*>(key.data()),
                                static_cast<int>(key.size()));
  if (n < 0) return Status::Invalid("the Azure account key is not base64");
  // EVP_DecodeBlock counts the padding's zero bytes too.
  for (size_t i = key.size(); i > 0 && key[i - 1] == '='; --i) --n;
  raw.resize(static_cast<size_t>(n));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha256(), raw.data(), static_cast<int>(raw.size()),
            reinterpret_cast<const unsigned char*>(string_to_sign.data()), string_to_sign.size(),
            mac, &mac_len))
    return Status::Failed("HMAC-SHA256 failed");
  std::string b64(4 * ((mac_len + 2) / 3) + 1, '\0');
  int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), mac, static_cast<int>(mac_len));
  b64.resize(static_cast<size_t>(len));
  *signature = std::move(b64);
  return Status::OK();
}

std::string HttpDate(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

}  // namespace verdi::localize
