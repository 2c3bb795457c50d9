// Message bodies: serializers, compression, kombu's JSON type markers.
#include "verdi/celery/serializer.h"
#include "verdi/celery/task_message.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <vector>

#include <fmt/format.h>

namespace verdi {
namespace {

// `text` as is when it is short printable ASCII, else quoted and escaped (a
// content type or a compression name from the wire goes into a log line).
std::string Printable(std::string_view text) {
  bool plain = text.size() <= 100 &&
               std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
  return plain ? std::string(text) : DescribeJson(Json(std::string(text)));
}

// Builds the document from nlohmann's SAX events, refusing nesting deeper
// than `max_depth` before the (recursive) msgpack reader goes any deeper.
// For msgpack, strings must be UTF-8 (kombu unpacks with raw=False) and bin
// values become strings of their bytes.
class DomBuilder {
 public:
  DomBuilder(size_t max_depth, bool msgpack) : max_depth_(max_depth), msgpack_(msgpack) {}

  bool null() { return Put(nullptr) != nullptr; }
  bool boolean(bool v) { return Put(v) != nullptr; }
  bool number_integer(Json::number_integer_t v) { return Put(v) != nullptr; }
  bool number_unsigned(Json::number_unsigned_t v) { return Put(v) != nullptr; }
  bool number_float(Json::number_float_t v, const Json::string_t&) {
    // 1e400 reads as infinity; msgpack may carry NaN. Neither can be written back as JSON.
    if (!std::isfinite(v)) return Fail("a number is NaN or infinite");
    return Put(v) != nullptr;
  }
  bool string(Json::string_t& v) {
    if (msgpack_ && !IsValidUtf8(v)) return Fail("invalid msgpack: a string is not valid UTF-8");
    return Put(std::move(v)) != nullptr;
  }
  bool binary(Json::binary_t& v) {
    if (v.has_subtype())
      return Fail(fmt::format("msgpack extension type {} is not supported", v.subtype()));
    return Put(std::string(v.begin(), v.end())) != nullptr;
  }
  bool key(Json::string_t& v) {
    if (msgpack_ && !IsValidUtf8(v)) return Fail("invalid msgpack: a map key is not valid UTF-8");
    key_ = std::move(v);
    return true;
  }
  bool start_object(size_t) { return Open(Json::object()); }
  bool start_array(size_t) { return Open(Json::array()); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception& e) {
    // nlohmann's message starts with "[json.exception.parse_error.101] ".
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    return Fail(fmt::format("invalid {}: {}", msgpack_ ? "msgpack" : "JSON", what));
  }

  Json& root() { return root_; }
  const std::string& error() const { return error_; }

 private:
  Json* Put(Json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json* top = stack_.back();
    if (top->is_array()) {
      top->push_back(std::move(value));
      return &top->back();
    }
    Json& slot = (*top)[key_];  // a repeated key: the last one wins, as in Python
    slot = std::move(value);
    return &slot;
  }
  bool Open(Json container) {
    if (stack_.size() >= max_depth_)
      return Fail(fmt::format("nested deeper than {} levels", max_depth_));
    stack_.push_back(Put(std::move(container)));
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }
  bool Fail(std::string error) {
    if (error_.empty()) error_ = std::move(error);
    return false;
  }

  size_t max_depth_;
  bool msgpack_;
  Json root_;
  std::vector<Json*> stack_;  // the open containers; only the last one grows
  std::string key_;
  std::string error_;
};

Status PickSerializer(const std::string& content_type, Serializer* out) {
  std::string type = content_type.substr(0, content_type.find(';'));
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  type.erase(type.begin(), std::find_if(type.begin(), type.end(), not_space));
  type.erase(std::find_if(type.rbegin(), type.rend(), not_space).base(), type.end());
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (type == "application/json") {
    *out = Serializer::kJson;
    return Status::OK();
  }
  if (type == "application/x-msgpack") {
    *out = Serializer::kMsgpack;
    return Status::OK();
  }
  if (type.empty())
    return Status::Invalid(
        "content_type: is missing, expected application/json or application/x-msgpack");
  if (type == "application/x-python-serialize")
    return Status::Invalid(fmt::format(
        "content_type: {} (pickle) is refused: verdi never unpickles", Printable(content_type)));
  if (type == "application/x-yaml")
    return Status::Invalid(
        fmt::format("content_type: {} (yaml) is refused: verdi reads only json and msgpack",
                    Printable(content_type)));
  return Status::Invalid(fmt::format(
      "content_type: {} is not supported (supported: application/json, application/x-msgpack)",
      Printable(content_type)));
}

// Inflates a zlib stream (what kombu's "gzip"/"zlib" compression writes:
// zlib.compress), stopping as soon as the output passes `limit`. Bytes after
// the end of the stream are ignored, as Python's zlib.decompress does.
Status Inflate(std::string_view in, size_t limit, std::string* out) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return Status::Failed("body: zlib could not start");
  struct End {
    z_stream* zs;
    ~End() { inflateEnd(zs); }
  } end{&zs};
  auto next = reinterpret_cast<const unsigned char*>(in.data());
  size_t left = in.size();
  constexpr size_t kChunk = 64 << 10;
  out->clear();
  for (;;) {
    if (zs.avail_in == 0 && left > 0) {
      auto n = static_cast<uInt>(std::min<size_t>(left, UINT_MAX));
      zs.next_in = const_cast<unsigned char*>(next);
      zs.avail_in = n;
      next += n;
      left -= n;
    }
    size_t have = out->size();
    out->resize(have + kChunk);
    zs.next_out = reinterpret_cast<unsigned char*>(out->data() + have);
    zs.avail_out = kChunk;
    int ret = inflate(&zs, Z_NO_FLUSH);
    out->resize(have + kChunk - zs.avail_out);
    if (out->size() > limit)
      return Status::Invalid(
          fmt::format("body: decompresses to more than the {} bytes allowed", limit));
    if (ret == Z_STREAM_END) return Status::OK();
    if (ret == Z_NEED_DICT) return Status::Invalid("body: invalid zlib data: needs a dictionary");
    if (ret == Z_DATA_ERROR)
      return Status::Invalid(
          fmt::format("body: invalid zlib data: {}", zs.msg != nullptr ? zs.msg : "corrupt"));
    if (ret == Z_MEM_ERROR) return Status::Failed("body: zlib ran out of memory");
    if (zs.avail_out != 0 && zs.avail_in == 0 && left == 0)
      return Status::Invalid("body: the compressed stream is truncated");
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Python's uuid.UUID(hex=...) accepts dashes, braces and a "urn:uuid:"
// prefix around 32 hex digits; the result is always the dashed lower form.
bool NormalizeUuid(std::string_view text, std::string* out) {
  if (text.substr(0, 9) == "urn:uuid:") text.remove_prefix(9);
  std::string hex;
  for (char c : text) {
    if (c == '-' || c == '{' || c == '}') continue;
    if (HexValue(c) < 0) return false;
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (hex.size() != 32) return false;
  *out = fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                     hex.substr(16, 4), hex.substr(20));
  return true;
}

// Python's base64.b64decode: characters outside the alphabet are skipped,
// the padding must be right.
bool DecodeBase64(std::string_view text, std::string* out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string bytes;
  uint32_t acc = 0;
  size_t count = 0, pad = 0;
  for (char c : text) {
    if (c == '=') {
      ++pad;
      continue;
    }
    int v = value(c);
    if (v < 0) continue;
    if (pad > 0) return false;  // data after the padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (++count % 4 == 0) {
      bytes += static_cast<char>(acc >> 16);
      bytes += static_cast<char>(acc >> 8);
      bytes += static_cast<char>(acc);
      acc = 0;
    }
  }
  size_t rest = count % 4;
  if (rest == 1 || (rest != 0 && pad < 4 - rest)) return false;
  if (rest == 2) bytes += static_cast<char>(acc >> 4);
  if (rest == 3) {
    bytes += static_cast<char>(acc >> 10);
    bytes += static_cast<char>(acc >> 2);
  }
  *out = std::move(bytes);
  return true;
}

// Replaces kombu's {"__type__": T, "__value__": V} markers below `value`,
// innermost first (Python's object_hook order). On failure sets `*where` to
// the path below `value` and `*error` to what is wrong.
bool DecodeMarkers(Json* value, std::string* where, std::string* error) {
  if (value->is_array()) {
    for (size_t i = 0; i < value->size(); ++i) {
      if (!DecodeMarkers(&(*value)[i], where, error)) {
        *where = fmt::format("[{}]{}", i, *where);
        return false;
      }
    }
    return true;
  }
  if (!value->is_object()) return true;
  for (auto& [key, item] : value->items()) {
    if (!DecodeMarkers(&item, where, error)) {
      *where = fmt::format(".{}{}", key, *where);
      return false;
    }
  }
  if (value->size() != 2 || !value->contains("__type__") || !value->contains("__value__"))
    return true;
  const Json& type = (*value)["__type__"];
  const Json& inner = (*value)["__value__"];
  std::string name = type.is_string() ? type.get<std::string>() : "";
  std::string text = inner.is_string() ? inner.get<std::string>() : "";
  std::string decoded;
  if (name == "datetime" || name == "date" || name == "time" || name == "decimal" ||
      name == "bytes") {
    if (!inner.is_string()) {
      *error = fmt::format("kombu {} marker: expected a string, got {}", name, DescribeJson(inner));
      return false;
    }
    decoded = std::move(text);
  } else if (name == "base64") {
    if (!inner.is_string() || !DecodeBase64(text, &decoded)) {
      *error =
          fmt::format("kombu base64 marker: expected base64 text, got {}", DescribeJson(inner));
      return false;
    }
  } else if (name == "uuid") {
    // {"hex": "...", "version": 4} since kombu 5.3; a plain string is taken too.
    const Json* hex = inner.is_object() ? FindPath(inner, {"hex"}) : &inner;
    if (hex == nullptr || !hex->is_string() || !NormalizeUuid(hex->get<std::string>(), &decoded)) {
      *error = fmt::format("kombu uuid marker: expected {{\"hex\": <32 hex digits>}}, got {}",
                           DescribeJson(inner));
      return false;
    }
  } else {
    *error = fmt::format("unsupported kombu type marker {}", DescribeJson(type));
    return false;
  }
  *value = std::move(decoded);
  return true;
}

}  // namespace

Status DecodeMessageBody(const std::string& content_type, const Json* compression,
                         std::string_view body, const DecodeLimits& limits, Json* out) {
  if (body.size() > limits.max_body_bytes)
    return Status::Invalid(fmt::format("body is {} bytes, more than the {} allowed", body.size(),
                                       limits.max_body_bytes));
  Serializer serializer;
  VERDI_RETURN_IF_ERROR(PickSerializer(content_type, &serializer));

  std::string inflated;
  JsonField field(compression, "headers.compression");
  if (!field.missing()) {
    std::string name;
    VERDI_RETURN_IF_ERROR(field.GetString(&name));
    if (name == "application/x-gzip" || name == "gzip" || name == "zlib") {
      VERDI_RETURN_IF_ERROR(Inflate(body, limits.max_body_bytes, &inflated));
      body = inflated;
    } else if (!name.empty()) {  // kombu treats an empty name as no compression
      return Status::Invalid(fmt::format(
          "headers.compression: {} is not supported (supported: application/x-gzip, also "
          "named gzip or zlib)",
          Printable(name)));
    }
  }

  DomBuilder builder(std::max<size_t>(limits.max_depth, 1), serializer == Serializer::kMsgpack);
  bool parsed =
      serializer == Serializer::kJson
          ? Json::sax_parse(body.begin(), body.end(), &builder, Json::input_format_t::json)
          : Json::sax_parse(body.begin(), body.end(), &builder, Json::input_format_t::msgpack);
  if (!parsed) return Status::Invalid("body: " + builder.error());
  if (serializer == Serializer::kJson) {
    std::string where, error;
    if (!DecodeMarkers(&builder.root(), &where, &error))
      return Status::Invalid(fmt::format("body{}: {}", where, error));
  }
  *out = std::move(builder.root());
  return Status::OK();
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

}  // namespace verdi
