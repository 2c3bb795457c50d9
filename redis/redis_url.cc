#include "redis/redis_url.h"

#include "base/redact.h"
#include "jobspec/url_escape.h"

#include <strings.h>
#include <charconv>
#include <climits>

#include <fmt/format.h>

namespace verdi {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

/// A non-negative decimal number in [min, max]; false otherwise.
bool ParseNumber(std::string_view text, int min, int max, int* out) {
  if (text.empty()) return false;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return false;
  if (text[0] == '+' || text[0] == '-' || value < min || value > max) return false;
  *out = value;
  return true;
}

/// Where the authority (user info, host, port) of `url` is: after "://", up
/// to the first '/', '?' or '#'. npos when there is no "://".
size_t AuthorityStart(std::string_view url) {
  size_t scheme_end = url.find("://");
  return scheme_end == std::string_view::npos ? scheme_end : scheme_end + 3;
}

size_t AuthorityEnd(std::string_view url, size_t start) {
  size_t end = url.find_first_of("/?#", start);
  return end == std::string_view::npos ? url.size() : end;
}

Status ParseHostPort(std::string_view hostport, RedisUrl* out, const std::string& where) {
  std::string_view host = hostport;
  std::string_view port;
  bool has_port = false;
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      return Status::Invalid(fmt::format("{}: unterminated '[' in the host", where));
    }
    host = hostport.substr(1, close - 1);
    std::string_view rest = hostport.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return Status::Invalid(fmt::format("{}: bad text after ']'", where));
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    size_t colon = hostport.rfind(':');
    if (colon != std::string_view::npos) {
      host = hostport.substr(0, colon);
      port = hostport.substr(colon + 1);
      has_port = true;
      if (host.find(':') != std::string_view::npos) {
        return Status::Invalid(
            fmt::format("{}: an IPv6 address must be written in brackets", where));
      }
    }
  }
  std::string decoded_host;
  if (!PercentDecode(host, false, true, &decoded_host)) {
    return Status::Invalid(fmt::format("{}: bad percent escape in the host", where));
  }
  if (!decoded_host.empty()) out->host = decoded_host;
  if (has_port && !ParseNumber(port, 1, 65535, &out->port)) {
    return Status::Invalid(fmt::format("{}: bad port '{}'", where, port));
  }
  return Status::OK();
}

Status ParseCertReqs(std::string_view value, RedisUrl* out, const std::string& where) {
  if (EqualsNoCase(value, "none") || EqualsNoCase(value, "cert_none")) {
    out->verify_peer = false;
  } else if (EqualsNoCase(value, "required") || EqualsNoCase(value, "cert_required") ||
             EqualsNoCase(value, "optional") || EqualsNoCase(value, "cert_optional")) {
    // A client always checks a certificate the server must send.
    out->verify_peer = true;
  } else {
    return Status::Invalid(fmt::format(
        "{}: ssl_cert_reqs must be none, optional or required (or CERT_NONE, ...), got '{}'", where,
        value));
  }
  return Status::OK();
}

Status ParseQuery(std::string_view query, RedisUrl* out, const std::string& where) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string key, value;
    if (!PercentDecode(item.substr(0, eq), true, true, &key) ||
        !PercentDecode(eq == std::string_view::npos ? "" : item.substr(eq + 1), true, true,
                       &value)) {
      return Status::Invalid(fmt::format("{}: bad percent escape in the query", where));
    }
    if (key == "db") {
      if (!ParseNumber(value, 0, INT_MAX, &out->db)) {
        return Status::Invalid(fmt::format("{}: bad database number '{}'", where, value));
      }
    } else if (key == "ssl_cert_reqs") {
      VERDI_RETURN_IF_ERROR(ParseCertReqs(value, out, where));
    } else if (key == "ssl_ca_certs") {
      out->ca_file = value;
    } else if (key == "ssl_certfile") {
      out->cert_file = value;
    } else if (key == "ssl_keyfile") {
      out->key_file = value;
    }
  }
  return Status::OK();
}

}  // namespace

Status ParseRedisUrl(std::string_view url, RedisUrl* out) {
  const std::string where = RedactUrls(url);
  RedisUrl parsed;
  size_t start = AuthorityStart(url);
  std::string_view scheme = url.substr(0, start == std::string_view::npos ? 0 : start - 3);
  if (EqualsNoCase(scheme, "rediss")) {
    parsed.tls = true;
  } else if (!EqualsNoCase(scheme, "redis")) {
    return Status::Invalid(fmt::format("{}: expected a redis:// or rediss:// URL", where));
  }
  size_t end = AuthorityEnd(url, start);
  std::string_view authority = url.substr(start, end - start);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    size_t colon = userinfo.find(':');
    bool ok = PercentDecode(userinfo.substr(0, colon), false, true, &parsed.username);
    if (ok && colon != std::string_view::npos) {
      ok = PercentDecode(userinfo.substr(colon + 1), false, true, &parsed.password);
    }
    if (!ok) return Status::Invalid(fmt::format("{}: bad percent escape in the user info", where));
    authority = authority.substr(at + 1);
  }
  VERDI_RETURN_IF_ERROR(ParseHostPort(authority, &parsed, where));

  std::string_view rest = url.substr(end);
  rest = rest.substr(0, rest.find('#'));
  size_t question = rest.find('?');
  std::string_view path = rest.substr(0, question);
  if (path.size() > 1) {
    std::string_view db = path.substr(1);
    if (db.back() == '/') db.remove_suffix(1);
    if (!ParseNumber(db, 0, INT_MAX, &parsed.db)) {
      return Status::Invalid(fmt::format("{}: bad database number '{}'", where, path.substr(1)));
    }
  }
  if (question != std::string_view::npos) {
    VERDI_RETURN_IF_ERROR(ParseQuery(rest.substr(question + 1), &parsed, where));
  }
  *out = std::move(parsed);
  return Status::OK();
}

}  // namespace verdi
