#include "verdi/celery/serializer.h"

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace verdi {
namespace {

std::string Hex(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

TEST(Serializer, NamesAndContentTypes) {
  Serializer s;
  for (const char* name : {"json", " JSON ", "application/json"}) {
    ASSERT_TRUE(ParseSerializer(name, "x", &s).ok()) << name;
    EXPECT_EQ(s, Serializer::kJson);
  }
  for (const char* name : {"msgpack", "application/x-msgpack"}) {
    ASSERT_TRUE(ParseSerializer(name, "x", &s).ok()) << name;
    EXPECT_EQ(s, Serializer::kMsgpack);
  }
  EXPECT_STREQ(ContentTypeOf(Serializer::kMsgpack), "application/x-msgpack");
  EXPECT_STREQ(ContentEncodingOf(Serializer::kMsgpack), "binary");
  EXPECT_STREQ(ContentTypeOf(Serializer::kJson), "application/json");
  EXPECT_STREQ(ContentEncodingOf(Serializer::kJson), "utf-8");
  EXPECT_STREQ(SerializerName(Serializer::kMsgpack), "msgpack");
}

TEST(Serializer, PickleAndOthersAreRefused) {
  Serializer s;
  Status st = ParseSerializer("pickle", "result_serializer", &s);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(),
            "result_serializer: pickle is refused: verdi never pickles or unpickles (json or "
            "msgpack)");
  st = ParseSerializer("application/x-python-serialize", "task_serializer", &s);
  EXPECT_EQ(st.message(),
            "task_serializer: application/x-python-serialize is refused: verdi never pickles or "
            "unpickles (json or msgpack)");
  st = ParseSerializer("yaml", "result_serializer", &s);
  EXPECT_EQ(st.message(), "result_serializer: \"yaml\" is not supported (json or msgpack)");
}

TEST(Serializer, Lists) {
  std::vector<Serializer> list;
  ASSERT_TRUE(ParseSerializerList("msgpack, json,msgpack", "accept", &list).ok());
  EXPECT_EQ(list, (std::vector<Serializer>{Serializer::kMsgpack, Serializer::kJson}));
  Status st = ParseSerializerList("json,pickle", "result_accept_content", &list);
  EXPECT_EQ(st.message(),
            "result_accept_content: pickle is refused: verdi never pickles or unpickles (json or "
            "msgpack)");
  st = ParseSerializerList(" , ", "result_accept_content", &list);
  EXPECT_EQ(st.message(), "result_accept_content: no serializer given (json, msgpack or both)");
}

TEST(Serializer, MsgpackAsKombuWritesIt) {
  // kombu.serialization.dumps({'x': b'\xff\x00', 'f': 0.5}, serializer='msgpack')
  // is 82 a178 c402ff00 a166 cb3fe0000000000000 (dict order x, f); here the
  // keys come sorted, each value as kombu writes it: bytes that are not
  // UTF-8 as bin, 0.5 as a float64.
  Json value = {{"x", std::string("\xff\x00", 2)}, {"f", 0.5}};
  EXPECT_EQ(Hex(Serialize(Serializer::kMsgpack, value)), "82a166cb3fe0000000000000a178c402ff00");
  // A map key that is not UTF-8 has its bad byte replaced.
  EXPECT_EQ(Hex(Serialize(Serializer::kMsgpack, Json{{std::string("k\xff"), 1}})),
            "81a46befbfbd01");
  EXPECT_EQ(Serialize(Serializer::kJson, value),
            R"({"f": 0.5, "x": {"__type__": "base64", "__value__": "/wA="}})");
}

}  // namespace
}  // namespace verdi
