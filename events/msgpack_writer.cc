#include "events/msgpack_writer.h"

#include <cstdint>
#include <cstring>

namespace verdi {
namespace {

/// `n` big-endian bytes of `v` after the format byte `tag`.
void Put(std::string* out, uint8_t tag, uint64_t v, int n) {
  char bytes[9];
  bytes[0] = static_cast<char>(tag);
  for (int i = 0; i < n; ++i) bytes[1 + i] = static_cast<char>(v >> (8 * (n - 1 - i)));
  out->append(bytes, static_cast<size_t>(n) + 1);
}

void PutUnsigned(uint64_t v, std::string* out) {
  if (v < 128) {
    out->push_back(static_cast<char>(v));
  } else if (v <= UINT8_MAX) {
    Put(out, 0xcc, v, 1);
  } else if (v <= UINT16_MAX) {
    Put(out, 0xcd, v, 2);
  } else if (v <= UINT32_MAX) {
    Put(out, 0xce, v, 4);
  } else {
    Put(out, 0xcf, v, 8);
  }
}

void PutSigned(int64_t v, std::string* out) {
  if (v >= 0) return PutUnsigned(static_cast<uint64_t>(v), out);
  uint64_t bits = static_cast<uint64_t>(v);
  if (v >= -32) {
    out->push_back(static_cast<char>(v));
  } else if (v >= INT8_MIN) {
    Put(out, 0xd0, bits, 1);
  } else if (v >= INT16_MIN) {
    Put(out, 0xd1, bits, 2);
  } else if (v >= INT32_MIN) {
    Put(out, 0xd2, bits, 4);
  } else {
    Put(out, 0xd3, bits, 8);
  }
}

/// A container or string header: the fix form (`fix` | n) below `fix_limit`,
/// else the 8-bit (when `tag8` is not 0), 16-bit or 32-bit form.
void PutHeader(size_t n, uint8_t fix, size_t fix_limit, uint8_t tag8, uint8_t tag16,
               std::string* out) {
  if (n < fix_limit) {
    out->push_back(static_cast<char>(fix | n));
  } else if (tag8 != 0 && n <= UINT8_MAX) {
    Put(out, tag8, n, 1);
  } else if (n <= UINT16_MAX) {
    Put(out, tag16, n, 2);
  } else {
    Put(out, static_cast<uint8_t>(tag16 + 1), n, 4);
  }
}

void PutString(const std::string& s, std::string* out) {
  PutHeader(s.size(), 0xa0, 32, 0xd9, 0xda, out);
  out->append(s);
}

}  // namespace

void AppendMsgpack(const Json& value, std::string* out) {
  switch (value.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      out->push_back(static_cast<char>(0xc0));
      break;
    case Json::value_t::boolean:
      out->push_back(static_cast<char>(*value.get_ptr<const Json::boolean_t*>() ? 0xc3 : 0xc2));
      break;
    case Json::value_t::number_integer:
      PutSigned(*value.get_ptr<const Json::number_integer_t*>(), out);
      break;
    case Json::value_t::number_unsigned:
      PutUnsigned(*value.get_ptr<const Json::number_unsigned_t*>(), out);
      break;
    case Json::value_t::number_float: {
      double d = *value.get_ptr<const Json::number_float_t*>();
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      Put(out, 0xcb, bits, 8);
      break;
    }
    case Json::value_t::string:
      PutString(*value.get_ptr<const Json::string_t*>(), out);
      break;
    case Json::value_t::binary: {
      const auto& bytes = *value.get_ptr<const Json::binary_t*>();
      PutHeader(bytes.size(), 0, 0, 0xc4, 0xc5, out);
      out->append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      break;
    }
    case Json::value_t::array: {
      const auto& array = *value.get_ptr<const Json::array_t*>();
      PutHeader(array.size(), 0x90, 16, 0, 0xdc, out);
      for (const Json& item : array) AppendMsgpack(item, out);
      break;
    }
    case Json::value_t::object: {
      // The map itself, not nlohmann's items() proxies: this is the hot loop.
      const auto& object = *value.get_ptr<const Json::object_t*>();
      PutHeader(object.size(), 0x80, 16, 0, 0xde, out);
      for (const auto& [key, item] : object) {
        PutString(key, out);
        AppendMsgpack(item, out);
      }
      break;
    }
  }
}

std::string PackMsgpack(const Json& value) {
  std::string out;
  out.reserve(2048);  // a status document fits: no regrowth on the way
  AppendMsgpack(value, &out);
  return out;
}

}  // namespace verdi
