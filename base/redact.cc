#include "base/redact.h"

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

namespace verdi {
namespace {

bool IsSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

// Where the URL whose authority starts at `start` ends, for finding the '@'
// of a password with an unencoded '/': at white space, a quote, or the
// next "://".
size_t UrlEnd(std::string_view text, size_t start) {
  size_t end = std::min(text.find_first_of(" \t\r\n\"'<>`", start), text.size());
  return std::min(end, text.find("://", start));
}

// The offset of the last '@' in text[begin, end), or npos.
size_t LastAt(std::string_view text, size_t begin, size_t end) {
  size_t at = text.substr(begin, end - begin).rfind('@');
  return at == std::string_view::npos ? at : begin + at;
}

// Whether the value of the query parameter `name` is a secret: a name that
// LooksSecret, or a signature (Azure's SAS `sig`, S3's and GCS's presigned
// URLs), which grants access as a password does.
bool SecretParameter(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower == "sig" || lower == "signature" || lower == "x-amz-signature" ||
         lower == "x-goog-signature" || LooksSecret(name);
}

// The spans of `text` to hide in the URL whose authority starts at `start`
// and which ends at `url_end`: its password (or user) and the values of its
// secret query parameters. Returns where the next URL may start.
size_t SecretSpans(std::string_view text, size_t start, size_t url_end,
                   std::vector<std::pair<size_t, size_t>>* spans) {
  const size_t auth_end = std::min(text.find_first_of("/?#", start), url_end);
  size_t after = start;
  size_t secret_begin = 0, secret_end = 0;
  if (size_t at = LastAt(text, start, auth_end); at != std::string_view::npos) {
    size_t colon = text.substr(start, at - start).find(':');
    secret_begin = colon == std::string_view::npos ? start : start + colon + 1;
    secret_end = at;
  } else {
    // urlsplit would end the authority inside such a password; hide up to
    // the URL's last '@' anyway.
    size_t colon = text.substr(start, auth_end - start).find(':');
    at = LastAt(text, auth_end, url_end);
    if (colon != std::string_view::npos && at != std::string_view::npos) {
      secret_begin = start + colon + 1;
      secret_end = at;
    }
  }
  if (secret_begin < secret_end) {  // "user:@host": nothing to hide
    spans->emplace_back(secret_begin, secret_end);
    after = secret_end;
  }
  size_t query = text.find_first_of("?#", std::max(auth_end, secret_end));
  if (query >= url_end || text[query] == '#') return after;
  const size_t query_end = std::min(text.find('#', query), url_end);
  for (size_t p = query + 1; p < query_end;) {
    size_t amp = std::min(text.find('&', p), query_end);
    size_t eq = text.find('=', p);
    if (eq < amp && eq + 1 < amp && SecretParameter(text.substr(p, eq - p)))
      spans->emplace_back(eq + 1, amp);
    p = amp + 1;
  }
  return query_end;
}

}  // namespace

std::string RedactUrls(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> spans;
  size_t pos = 0;
  for (size_t sep; (sep = text.find("://", pos)) != std::string_view::npos;) {
    const size_t start = sep + 3;
    pos = start;
    size_t scheme = sep;
    while (scheme > 0 && IsSchemeChar(text[scheme - 1])) --scheme;
    if (scheme == sep || !std::isalpha(static_cast<unsigned char>(text[scheme]))) continue;
    pos = SecretSpans(text, start, UrlEnd(text, start), &spans);
  }
  std::string out;
  size_t copied = 0;  // text[0, copied) is in `out` already
  for (const auto& [begin, end] : spans) {
    out.append(text.substr(copied, begin - copied));
    out += kRedacted;
    copied = end;
  }
  out.append(text.substr(copied));
  return out;
}

bool LooksSecret(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (std::string_view part : {"SECRET", "PASSWORD", "PASSWD", "TOKEN", "CREDENTIAL",
                                "CONNECTION_STRING", "CONNECTIONSTRING"})
    if (upper.find(part) != std::string::npos) return true;
  size_t i = 0;
  while (i < upper.size()) {
    while (i < upper.size() && !std::isalnum(static_cast<unsigned char>(upper[i]))) ++i;
    size_t end = i;
    while (end < upper.size() && std::isalnum(static_cast<unsigned char>(upper[end]))) ++end;
    std::string_view word = std::string_view(upper).substr(i, end - i);
    if (word == "KEY" || word == "APIKEY" || word == "PASS") return true;
    i = end;
  }
  return false;
}

std::string RedactEnvValue(std::string_view name, std::string_view value) {
  return LooksSecret(name) ? std::string(kRedacted) : RedactUrls(value);
}

std::string RedactEnvEntry(std::string_view entry) {
  size_t eq = entry.find('=');
  if (eq == std::string_view::npos) return std::string(entry);
  std::string_view name = entry.substr(0, eq);
  return std::string(name) + "=" + RedactEnvValue(name, entry.substr(eq + 1));
}

}  // namespace verdi
