// Azure Storage's Shared Key authorization (Blob service, versions
// 2009-09-19 and later): the string to sign and its HMAC-SHA256 signature,
// for the header "Authorization: SharedKey <account>:<signature>".
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace verdi::localize {

/// The x-ms-version verdi's Azure requests carry.
inline constexpr const char* kAzureApiVersion = "2021-08-06";

/// The string Azure signs for a request:
///   VERB \n Content-Encoding \n Content-Language \n Content-Length (empty
///   for 0) \n Content-MD5 \n Content-Type \n Date \n If-Modified-Since \n
///   If-Match \n If-None-Match \n If-Unmodified-Since \n Range \n
///   CanonicalizedHeaders (every x-ms-* header, lowercase, sorted,
///   "name:value\n", runs of white space in the value as one space)
///   CanonicalizedResource ("/" account path, then for each query parameter
///   sorted by its lowercase name "\nname:value", the values decoded,
///   sorted and joined with ',').
/// `path` is the request's path as sent (percent-encoded, with the account
/// first for an emulator's path-style URL); `query` without '?'; `headers`
/// the request's headers (names in any case).
std::string SharedKeyStringToSign(const std::string& method, const std::string& account,
                                  const std::string& path, const std::string& query,
                                  const std::vector<std::pair<std::string, std::string>>& headers);

/// base64(HMAC-SHA256(base64-decoded `key`, `string_to_sign`)). Invalid
/// (the key never quoted) when the key is not base64.
Status SharedKeySignature(const std::string& key, const std::string& string_to_sign,
                          std::string* signature);

/// An HTTP date (RFC 1123, GMT) as x-ms-date wants it:
/// "Sun, 06 Nov 1994 08:49:37 GMT".
std::string HttpDate(std::chrono::system_clock::time_point t);

}  // namespace verdi::localize
