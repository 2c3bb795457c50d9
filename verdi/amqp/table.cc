#include "verdi/amqp/table.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include <fmt/format.h>

namespace verdi {
namespace {

bool CopyBytes(std::string_view text, amqp_pool_t* pool, amqp_bytes_t* out) {
  out->len = text.size();
  out->bytes = nullptr;
  if (text.empty()) return true;
  out->bytes = amqp_pool_alloc(pool, text.size());
  if (out->bytes == nullptr) return false;
  std::memcpy(out->bytes, text.data(), text.size());
  return true;
}

Status OutOfMemory(std::string_view path) {
  return Status::Failed(fmt::format("{}: out of memory encoding an AMQP field table", path));
}

Status EncodeValue(const Json& value, const std::string& path, amqp_pool_t* pool,
                   amqp_field_value_t* out);

Status EncodeArray(const Json& array, const std::string& path, amqp_pool_t* pool,
                   amqp_array_t* out) {
  out->num_entries = static_cast<int>(array.size());
  out->entries = nullptr;
  if (array.empty()) return Status::OK();
  out->entries = static_cast<amqp_field_value_t*>(
      amqp_pool_alloc(pool, sizeof(amqp_field_value_t) * array.size()));
  if (out->entries == nullptr) return OutOfMemory(path);
  for (size_t i = 0; i < array.size(); ++i) {
    VERDI_RETURN_IF_ERROR(
        EncodeValue(array[i], fmt::format("{}[{}]", path, i), pool, &out->entries[i]));
  }
  return Status::OK();
}

Status EncodeTable(const Json& object, const std::string& path, amqp_pool_t* pool,
                   amqp_table_t* out) {
  out->num_entries = static_cast<int>(object.size());
  out->entries = nullptr;
  if (object.empty()) return Status::OK();
  out->entries = static_cast<amqp_table_entry_t*>(
      amqp_pool_alloc(pool, sizeof(amqp_table_entry_t) * object.size()));
  if (out->entries == nullptr) return OutOfMemory(path);
  int i = 0;
  for (const auto& [key, value] : object.items()) {
    std::string child = path.empty() ? key : path + "." + key;
    if (key.size() > 255) {
      return Status::Invalid(child + ": field name longer than 255 bytes");
    }
    amqp_table_entry_t& entry = out->entries[i++];
    if (!CopyBytes(key, pool, &entry.key)) return OutOfMemory(child);
    VERDI_RETURN_IF_ERROR(EncodeValue(value, child, pool, &entry.value));
  }
  return Status::OK();
}

void SetInteger(int64_t n, amqp_field_value_t* out) {
  if (n >= std::numeric_limits<int32_t>::min() && n <= std::numeric_limits<int32_t>::max()) {
    out->kind = AMQP_FIELD_KIND_I32;
    out->value.i32 = static_cast<int32_t>(n);
  } else {
    out->kind = AMQP_FIELD_KIND_I64;
    out->value.i64 = n;
  }
}

Status EncodeValue(const Json& value, const std::string& path, amqp_pool_t* pool,
                   amqp_field_value_t* out) {
  switch (value.type()) {
    case Json::value_t::string:
      out->kind = AMQP_FIELD_KIND_UTF8;
      if (!CopyBytes(value.get_ref<const std::string&>(), pool, &out->value.bytes)) {
        return OutOfMemory(path);
      }
      return Status::OK();
    case Json::value_t::boolean:
      out->kind = AMQP_FIELD_KIND_BOOLEAN;
      out->value.boolean = value.get<bool>() ? 1 : 0;
      return Status::OK();
    case Json::value_t::number_integer:
      SetInteger(value.get<int64_t>(), out);
      return Status::OK();
    case Json::value_t::number_unsigned: {
      uint64_t n = value.get<uint64_t>();
      if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Status::Invalid(
            fmt::format("{}: integer {} does not fit in 64 signed bits", path, n));
      }
      SetInteger(static_cast<int64_t>(n), out);
      return Status::OK();
    }
    case Json::value_t::number_float:
      out->kind = AMQP_FIELD_KIND_F64;
      out->value.f64 = value.get<double>();
      return Status::OK();
    case Json::value_t::null:
      out->kind = AMQP_FIELD_KIND_VOID;
      return Status::OK();
    case Json::value_t::array:
      out->kind = AMQP_FIELD_KIND_ARRAY;
      return EncodeArray(value, path, pool, &out->value.array);
    case Json::value_t::object:
      out->kind = AMQP_FIELD_KIND_TABLE;
      return EncodeTable(value, path, pool, &out->value.table);
    case Json::value_t::binary: {
      const auto& bin = value.get_binary();
      out->kind = AMQP_FIELD_KIND_BYTES;
      std::string_view view(reinterpret_cast<const char*>(bin.data()), bin.size());
      if (!CopyBytes(view, pool, &out->value.bytes)) return OutOfMemory(path);
      return Status::OK();
    }
    case Json::value_t::discarded:
      break;
  }
  return Status::Invalid(path + ": cannot be encoded in an AMQP field table");
}

std::string BytesToString(const amqp_bytes_t& bytes) {
  if (bytes.len == 0) return std::string();
  return SanitizeUtf8(std::string_view(static_cast<const char*>(bytes.bytes), bytes.len));
}

Json DecodeValue(const amqp_field_value_t& v) {
  switch (v.kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
      return v.value.boolean != 0;
    case AMQP_FIELD_KIND_I8:
      return v.value.i8;
    case AMQP_FIELD_KIND_U8:
      return v.value.u8;
    case AMQP_FIELD_KIND_I16:
      return v.value.i16;
    case AMQP_FIELD_KIND_U16:
      return v.value.u16;
    case AMQP_FIELD_KIND_I32:
      return v.value.i32;
    case AMQP_FIELD_KIND_U32:
      return v.value.u32;
    case AMQP_FIELD_KIND_I64:
      return v.value.i64;
    // py-amqp writes large ints as 'L' with a signed value.
    case AMQP_FIELD_KIND_U64:
      return static_cast<int64_t>(v.value.u64);
    case AMQP_FIELD_KIND_TIMESTAMP:
      return static_cast<int64_t>(v.value.u64);
    case AMQP_FIELD_KIND_F32:
      return static_cast<double>(v.value.f32);
    case AMQP_FIELD_KIND_F64:
      return v.value.f64;
    case AMQP_FIELD_KIND_DECIMAL:
      // py-amqp writes the value as a signed 32-bit integer.
      return static_cast<double>(static_cast<int32_t>(v.value.decimal.value)) /
             std::pow(10.0, v.value.decimal.decimals);
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
      return BytesToString(v.value.bytes);
    case AMQP_FIELD_KIND_ARRAY: {
      Json array = Json::array();
      for (int i = 0; i < v.value.array.num_entries; ++i) {
        array.push_back(DecodeValue(v.value.array.entries[i]));
      }
      return array;
    }
    case AMQP_FIELD_KIND_TABLE:
      return AmqpTableToJson(v.value.table);
    case AMQP_FIELD_KIND_VOID:
    default:
      return nullptr;
  }
}

}  // namespace

Status JsonToAmqpTable(const Json& object, std::string_view path, amqp_pool_t* pool,
                       amqp_table_t* out) {
  if (!object.is_object()) {
    return Status::Invalid(
        fmt::format("{}: expected an object, got {}", path, DescribeJson(object)));
  }
  return EncodeTable(object, std::string(path), pool, out);
}

Json AmqpTableToJson(const amqp_table_t& table) {
  Json object = Json::object();
  for (int i = 0; i < table.num_entries; ++i) {
    const amqp_table_entry_t& entry = table.entries[i];
    object[BytesToString(entry.key)] = DecodeValue(entry.value);
  }
  return object;
}

std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    // Well-formed sequences, Unicode 15 table 3-7: the lead byte gives the
    // length and the range of the second byte.
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3, lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      len = 3;
    } else if (c == 0xED) {
      len = 3, hi = 0x9F;
    } else if (c == 0xF0) {
      len = 4, lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4, hi = 0x8F;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace verdi
