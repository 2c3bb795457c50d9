// Keeping secrets out of what verdi writes and prints: the one rule for
// credentials in URLs, and the one rule for which environment variable
// names hold secrets. Every log line, file and document that may show a URL
// or an environment value goes through these.
#pragma once

#include <string>
#include <string_view>

namespace verdi {

/// The text every hidden value is replaced by.
inline constexpr std::string_view kRedacted = "***";

/// `text` with the credentials of every URL in it replaced by "***":
/// scheme://user:password@host becomes scheme://user:***@host, and a user
/// without a password (often a token, as in https://TOKEN@host) becomes
/// scheme://***@host. In the query, the value of a parameter whose name
/// LooksSecret (`token=`, `api_key=`) or names a signature (`sig`, an Azure
/// SAS token's; `Signature`, `X-Amz-Signature`, `X-Goog-Signature`, of
/// presigned URLs; any case) is hidden too: `?sv=2021-08-06&sig=***`. The authority is read as
/// Python's urlsplit reads it (up to the first '/', '?' or '#'; the user info is what precedes its
/// last
/// '@'), except that a password holding an unencoded '/', '?' or '#' is
/// still hidden up to the last '@' of the URL. Any text is accepted: text
/// without "://" comes back unchanged.
std::string RedactUrls(std::string_view text);

/// Whether an environment variable called `name` holds a secret, judged by
/// its name alone (case does not matter): it contains SECRET, PASSWORD,
/// PASSWD, TOKEN, CREDENTIAL or CONNECTION_STRING (Azure's, which holds
/// the account key), or one of its words (split at anything but a
/// letter or a digit) is KEY, APIKEY or PASS. So AWS_SECRET_ACCESS_KEY,
/// API_KEY, DB_PASS and GITHUB_TOKEN are secret; KEYBOARD and PASSAGE are not.
bool LooksSecret(std::string_view name);

/// How the value of the variable `name` may be shown in a file or a
/// document: "***" when the name looks secret, else `value` with the
/// credentials of its URLs hidden (RedactUrls).
std::string RedactEnvValue(std::string_view name, std::string_view value);

/// RedactEnvValue of a "NAME=value" entry, as "NAME=shown value". An entry
/// without '=' is returned unchanged.
std::string RedactEnvEntry(std::string_view entry);

}  // namespace verdi
