#include "verdi/amqp/url.h"

#include "base/redact.h"
#include "jobspec/url_escape.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

namespace verdi {
namespace {

// The parts of scheme://userinfo@hostport/path?query#fragment, split as
// Python's urllib.parse.urlsplit does (which is what kombu uses): the
// authority ends at the first '/', '?' or '#', and userinfo is what precedes
// its last '@'.
struct UrlParts {
  std::string_view scheme, userinfo, hostport, path, query;
  bool has_userinfo = false;
};

bool SplitUrl(std::string_view url, UrlParts* p) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return false;
  p->scheme = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    p->has_userinfo = true;
    p->userinfo = authority.substr(0, at);
    p->hostport = authority.substr(at + 1);
  } else {
    p->hostport = authority;
  }
  rest = rest.substr(0, rest.find('#'));
  size_t q = rest.find('?');
  p->path = rest.substr(0, q);
  p->query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
  return true;
}

bool ParseInt(std::string_view s, int64_t min, int64_t max, int* out) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return false;
  if (value < min || value > max) return false;
  *out = static_cast<int>(value);
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status ParseHostPort(std::string_view hostport, AmqpUrl* out) {
  std::string_view host = hostport;
  std::string_view port;
  bool has_port = false;
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return Status::Invalid("unterminated '[' in the host");
    host = hostport.substr(1, close - 1);
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return Status::Invalid(fmt::format("unexpected \"{}\" after the IPv6 host", after));
      }
      has_port = true;
      port = after.substr(1);
    }
    if (host.empty()) return Status::Invalid("empty IPv6 host \"[]\"");
  } else {
    size_t colon = hostport.find(':');
    if (colon != std::string_view::npos) {
      if (hostport.find(':', colon + 1) != std::string_view::npos) {
        return Status::Invalid(
            fmt::format("host \"{}\" has several ':'; write an IPv6 address as [addr]", hostport));
      }
      host = hostport.substr(0, colon);
      has_port = true;
      port = hostport.substr(colon + 1);
    }
  }
  if (!host.empty()) out->host = PercentDecode(host);
  if (has_port && !port.empty() && !ParseInt(port, 1, 65535, &out->port)) {
    return Status::Invalid(fmt::format("invalid port \"{}\" (expected 1 to 65535)", port));
  }
  return Status::OK();
}

Status ParseQuery(std::string_view query, AmqpUrl* out) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string key = PercentDecode(item.substr(0, eq));
    std::string value =
        eq == std::string_view::npos ? std::string() : PercentDecode(item.substr(eq + 1));
    if (key == "heartbeat") {
      if (!ParseInt(value, 0, 65535, &out->heartbeat_seconds)) {
        return Status::Invalid(
            fmt::format("heartbeat: expected whole seconds from 0 to 65535, got \"{}\"", value));
      }
    } else if (key == "connection_timeout") {
      char* end = nullptr;
      double seconds = value.empty() ? -1 : std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size() || !(seconds > 0) ||
          seconds > 86400) {
        return Status::Invalid(fmt::format(
            "connection_timeout: expected seconds greater than 0 (at most 86400), got \"{}\"",
            value));
      }
      out->connect_timeout_seconds = static_cast<int>(std::ceil(seconds));
    }
    // Other kombu transport options are not ours: ignored, as kombu ignores
    // the ones its transport does not know.
  }
  return Status::OK();
}

}  // namespace

Status ParseAmqpUrl(std::string_view url, AmqpUrl* out) {
  auto fail = [&](const Status& st) { return st.WithPrefix(RedactUrls(url)); };
  UrlParts parts;
  if (!SplitUrl(url, &parts)) {
    return fail(
        Status::Invalid("not a URL: expected amqp://[user[:password]@]host[:port][/vhost]"));
  }
  AmqpUrl result;
  std::string scheme = Lower(parts.scheme);
  if (scheme == "amqps") {
    result.tls = true;
    result.port = 5671;
  } else if (scheme != "amqp" && scheme != "pyamqp") {
    return fail(Status::Invalid(
        fmt::format("unsupported scheme \"{}\" (expected amqp or amqps)", parts.scheme)));
  }
  if (parts.has_userinfo) {
    size_t colon = parts.userinfo.find(':');
    std::string user = PercentDecode(parts.userinfo.substr(0, colon));
    if (!user.empty()) result.user = user;
    if (colon != std::string_view::npos) {
      std::string password = PercentDecode(parts.userinfo.substr(colon + 1));
      if (!password.empty()) result.password = password;
    }
  }
  Status st = ParseHostPort(parts.hostport, &result);
  if (!st.ok()) return fail(st);
  if (parts.path.size() > 1) result.vhost = PercentDecode(parts.path.substr(1));
  st = ParseQuery(parts.query, &result);
  if (!st.ok()) return fail(st);
  *out = std::move(result);
  return Status::OK();
}

}  // namespace verdi
