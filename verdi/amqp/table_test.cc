#include "verdi/amqp/table.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace verdi {
namespace {

// Encodes `table` to the wire format and decodes it back with librabbitmq, as
// a broker round trip would.
Json WireRoundTrip(amqp_table_t* table) {
  std::vector<char> buffer(65536);
  amqp_bytes_t encoded{buffer.size(), buffer.data()};
  size_t offset = 0;
  EXPECT_EQ(amqp_encode_table(encoded, table, &offset), AMQP_STATUS_OK);
  encoded.len = offset;
  AmqpPool pool;
  amqp_table_t decoded;
  size_t read = 0;
  EXPECT_EQ(amqp_decode_table(encoded, pool.get(), &decoded, &read), AMQP_STATUS_OK);
  EXPECT_EQ(read, offset);
  return AmqpTableToJson(decoded);
}

const amqp_field_value_t* Find(const amqp_table_t& table, const std::string& key) {
  for (int i = 0; i < table.num_entries; ++i) {
    const amqp_bytes_t& k = table.entries[i].key;
    if (std::string(static_cast<const char*>(k.bytes), k.len) == key) {
      return &table.entries[i].value;
    }
  }
  ADD_FAILURE() << "no key " << key;
  static amqp_field_value_t none{};
  return &none;
}

TEST(AmqpTableTest, EncodesEveryJsonTypeAsPyAmqpDoes) {
  Json headers = {{"s", "h\xC3\xA9llo"},
                  {"t", true},
                  {"f", false},
                  {"small", 7},
                  {"neg", -5},
                  {"int32max", 2147483647},
                  {"big", 1LL << 40},
                  {"nbig", -(1LL << 40)},
                  {"ubig", uint64_t{1} << 62},
                  {"d", 1.5},
                  {"n", nullptr},
                  {"tl", {nullptr, nullptr}},
                  {"obj", {{"a", {1, "x"}}, {"empty", Json::object()}}},
                  {"empty_array", Json::array()},
                  {"empty_string", ""}};
  AmqpPool pool;
  amqp_table_t table;
  ASSERT_TRUE(JsonToAmqpTable(headers, "headers", pool.get(), &table).ok());
  EXPECT_EQ(table.num_entries, static_cast<int>(headers.size()));
  EXPECT_EQ(Find(table, "s")->kind, 'S');
  EXPECT_EQ(Find(table, "t")->kind, 't');
  EXPECT_EQ(Find(table, "small")->kind, 'I');
  EXPECT_EQ(Find(table, "neg")->kind, 'I');
  EXPECT_EQ(Find(table, "int32max")->kind, 'I');
  EXPECT_EQ(Find(table, "big")->kind, 'l');
  EXPECT_EQ(Find(table, "nbig")->kind, 'l');
  EXPECT_EQ(Find(table, "ubig")->kind, 'l');
  EXPECT_EQ(Find(table, "d")->kind, 'd');
  EXPECT_EQ(Find(table, "n")->kind, 'V');
  EXPECT_EQ(Find(table, "tl")->kind, 'A');
  EXPECT_EQ(Find(table, "tl")->value.array.num_entries, 2);
  EXPECT_EQ(Find(table, "tl")->value.array.entries[0].kind, 'V');
  EXPECT_EQ(Find(table, "obj")->kind, 'F');
  EXPECT_EQ(WireRoundTrip(&table), headers);
}

TEST(AmqpTableTest, BinaryBecomesBytesAndDecodesAsString) {
  Json headers = {{"x", Json::binary({'r', 'a', 'w'})}};
  AmqpPool pool;
  amqp_table_t table;
  ASSERT_TRUE(JsonToAmqpTable(headers, "headers", pool.get(), &table).ok());
  EXPECT_EQ(Find(table, "x")->kind, 'x');
  EXPECT_EQ(WireRoundTrip(&table), Json({{"x", "raw"}}));
}

TEST(AmqpTableTest, RejectsWhatAFieldTableCannotHold) {
  AmqpPool pool;
  amqp_table_t table;
  Status st = JsonToAmqpTable(Json::array(), "headers", pool.get(), &table);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(), "headers: expected an object, got a list");
  st = JsonToAmqpTable({{"a", {{"big", UINT64_MAX}}}}, "headers", pool.get(), &table);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(),
            "headers.a.big: integer 18446744073709551615 does not fit in 64 signed bits");
  st = JsonToAmqpTable({{"a", {1, {{std::string(256, 'k'), 1}}}}}, "headers", pool.get(), &table);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message().substr(0, 14), "headers.a[1].k");
  EXPECT_NE(st.message().find("field name longer than 255 bytes"), std::string::npos);
}

// The headers of a Celery task as py-amqp 5.1.1 writes them: bytes captured
// from amqp.serialization._write_table (tests stay pure: no Python here).
TEST(AmqpTableTest, DecodesPyAmqpEncoding) {
  // {'s': 'héllo', 't': True, 'f': False, 'i': 7, 'neg': -5, 'big': 2**40,
  //  'nbig': -2**40, 'd': 1.5, 'n': None, 'tl': [None, None],
  //  'obj': {'a': [1, 'x']}, 'dec': Decimal('-1.25'),
  //  'ts': datetime(2024, 1, 2, 3, 4, 5)}
  const std::string wire(
      "\x00\x00\x00\x89\x01\x73\x53\x00\x00\x00\x06\x68\xc3\xa9\x6c\x6c\x6f\x01\x74\x74\x01\x01"
      "\x66\x74\x00\x01\x69\x49\x00\x00\x00\x07\x03\x6e\x65\x67\x49\xff\xff\xff\xfb\x03\x62\x69"
      "\x67\x4c\x00\x00\x01\x00\x00\x00\x00\x00\x04\x6e\x62\x69\x67\x4c\xff\xff\xff\x00\x00\x00"
      "\x00\x00\x01\x64\x64\x3f\xf8\x00\x00\x00\x00\x00\x00\x01\x6e\x56\x02\x74\x6c\x41\x00\x00"
      "\x00\x02\x56\x56\x03\x6f\x62\x6a\x46\x00\x00\x00\x12\x01\x61\x41\x00\x00\x00\x0b\x49\x00"
      "\x00\x00\x01\x53\x00\x00\x00\x01\x78\x03\x64\x65\x63\x44\x02\xff\xff\xff\x83\x02\x74\x73"
      "\x54\x00\x00\x00\x00\x65\x93\x7d\x25",
      141);
  AmqpPool pool;
  amqp_table_t table;
  size_t offset = 0;
  amqp_bytes_t bytes{wire.size(), const_cast<char*>(wire.data())};
  ASSERT_EQ(amqp_decode_table(bytes, pool.get(), &table, &offset), AMQP_STATUS_OK);
  Json expected = {{"s", "h\xC3\xA9llo"},
                   {"t", true},
                   {"f", false},
                   {"i", 7},
                   {"neg", -5},
                   {"big", 1LL << 40},
                   {"nbig", -(1LL << 40)},
                   {"d", 1.5},
                   {"n", nullptr},
                   {"tl", {nullptr, nullptr}},
                   {"obj", {{"a", {1, "x"}}}},
                   {"dec", -1.25},
                   {"ts", 1704164645}};
  Json got = AmqpTableToJson(table);
  EXPECT_EQ(got, expected) << got.dump();
  EXPECT_TRUE(got["big"].is_number_integer());
  EXPECT_TRUE(got["dec"].is_number_float());
}

// Kinds py-amqp never writes but other producers may.
TEST(AmqpTableTest, DecodesEveryOtherKind) {
  std::vector<amqp_table_entry_t> e(10);
  auto key = [](const char* k) { return amqp_cstring_bytes(k); };
  e[0].key = key("b"), e[0].value.kind = AMQP_FIELD_KIND_I8, e[0].value.value.i8 = -5;
  e[1].key = key("B"), e[1].value.kind = AMQP_FIELD_KIND_U8, e[1].value.value.u8 = 250;
  e[2].key = key("s"), e[2].value.kind = AMQP_FIELD_KIND_I16, e[2].value.value.i16 = -300;
  e[3].key = key("u"), e[3].value.kind = AMQP_FIELD_KIND_U16, e[3].value.value.u16 = 60000;
  e[4].key = key("i"), e[4].value.kind = AMQP_FIELD_KIND_U32, e[4].value.value.u32 = 4000000000u;
  e[5].key = key("f"), e[5].value.kind = AMQP_FIELD_KIND_F32, e[5].value.value.f32 = 0.5f;
  e[6].key = key("L"), e[6].value.kind = AMQP_FIELD_KIND_U64, e[6].value.value.u64 = UINT64_MAX;
  e[7].key = key("T"), e[7].value.kind = AMQP_FIELD_KIND_TIMESTAMP, e[7].value.value.u64 = 17;
  e[8].key = key("D"), e[8].value.kind = AMQP_FIELD_KIND_DECIMAL;
  e[8].value.value.decimal = amqp_decimal_t{3, 12345};
  e[9].key = key("x"), e[9].value.kind = AMQP_FIELD_KIND_BYTES;
  e[9].value.value.bytes = amqp_bytes_t{4, const_cast<char*>("r\xFFw!")};
  amqp_table_t table{static_cast<int>(e.size()), e.data()};
  Json got = WireRoundTrip(&table);
  Json expected = {{"b", -5},  {"B", 250}, {"s", -300}, {"u", 60000},  {"i", 4000000000u},
                   {"f", 0.5}, {"L", -1},  {"T", 17},   {"D", 12.345}, {"x", "r\xEF\xBF\xBDw!"}};
  EXPECT_EQ(got, expected) << got.dump();
  EXPECT_NO_THROW(got.dump());
}

TEST(AmqpTableTest, SanitizeUtf8) {
  EXPECT_EQ(SanitizeUtf8("plain"), "plain");
  EXPECT_EQ(SanitizeUtf8("h\xC3\xA9llo \xF0\x9F\x98\x80 \xE2\x82\xAC"),
            "h\xC3\xA9llo \xF0\x9F\x98\x80 \xE2\x82\xAC");
  EXPECT_EQ(SanitizeUtf8(std::string("a\0b", 3)), std::string("a\0b", 3));
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(SanitizeUtf8("\xFF"), r);
  EXPECT_EQ(SanitizeUtf8("a\xE2\x82"), "a" + r + r);           // truncated
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), r + r);                  // overlong
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), r + r + r);          // surrogate
  EXPECT_EQ(SanitizeUtf8("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
}

}  // namespace
}  // namespace verdi
