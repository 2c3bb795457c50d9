#include "events/msgpack_writer.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace verdi {
namespace {

std::string Hex(const Json& value) {
  std::string hex;
  for (unsigned char c : PackMsgpack(value)) hex += fmt::format("{:02x}", c);
  return hex;
}

// Each expected string is Python's msgpack.packb(value).hex() (Debian's
// python3-msgpack 1.0).
TEST(MsgpackWriter, ScalarsAsPythonWritesThem) {
  EXPECT_EQ(Hex(nullptr), "c0");
  EXPECT_EQ(Hex(true), "c3");
  EXPECT_EQ(Hex(false), "c2");
  EXPECT_EQ(Hex(0.5), "cb3fe0000000000000");  // nlohmann writes ca3f000000
  EXPECT_EQ(Hex(0.004), "cb3f70624dd2f1a9fc");
  EXPECT_EQ(Hex(-1), "ff");
  EXPECT_EQ(Hex(-33), "d0df");
  EXPECT_EQ(Hex(-129), "d1ff7f");
  EXPECT_EQ(Hex(-40000), "d2ffff63c0");
  EXPECT_EQ(Hex(-3000000000LL), "d3ffffffff4d2fa200");
  EXPECT_EQ(Hex(127), "7f");
  EXPECT_EQ(Hex(128), "cc80");
  EXPECT_EQ(Hex(256u), "cd0100");
  EXPECT_EQ(Hex(70000), "ce00011170");
  EXPECT_EQ(Hex(5000000000ULL), "cf000000012a05f200");
}

TEST(MsgpackWriter, StringsAndContainersAsPythonWritesThem) {
  EXPECT_EQ(Hex(std::string(31, 'x')).substr(0, 4), "bf78");
  EXPECT_EQ(Hex(std::string(40, 'x')).substr(0, 6), "d92878");
  EXPECT_EQ(Hex(std::string(300, 'y')).substr(0, 8), "da012c79");
  EXPECT_EQ(Hex(std::string(70000, 'z')).substr(0, 12), "db000111707a");
  EXPECT_EQ(Hex(Json::array()), "90");
  EXPECT_EQ(Hex(Json::object()), "80");
  Json sixteen = Json::array();
  for (int i = 0; i < 16; ++i) sixteen.push_back(i);
  EXPECT_EQ(Hex(sixteen), "dc0010000102030405060708090a0b0c0d0e0f");
  Json map = Json::object();
  for (int i = 0; i < 16; ++i) map[std::to_string(i)] = i;
  // nlohmann keeps keys sorted: Python's bytes for the dict built in that order.
  EXPECT_EQ(Hex(map).substr(0, 40), "de0010a13000a13101a231300aa231310ba23132");
  EXPECT_EQ(Hex(Json::binary({'a', 'b'})), "c4026162");
}

// A document as the status sink packs it, against Python's msgpack 1.0,
// checked by hand: for this document (keys sorted, no floats)
//   msgpack.packb({k: d[k] for k in sorted(d)}) == these bytes.
// Strings are str (fixstr, str8 0xd9, str16 0xda), never bin or raw.
TEST(MsgpackWriter, DocumentAsPythonWritesIt) {
  Json doc = {{"n", -1},
              {"big", 70000},
              {"ok", true},
              {"none", nullptr},
              {"list", {"a", 2}},
              {"s40", std::string(40, 'x')},
              {"utf8", "\xc3\xa9t\xc3\xa9"}};
  EXPECT_EQ(Hex(doc),
            "87a3626967ce00011170a46c69737492a16102a16eff"
            "a46e6f6e65c0a26f6bc3a3733430d928"
            "78787878787878787878787878787878787878787878787878787878787878787878787878787878"
            "a475746638a5c3a974c3a9");
}

// Whatever it writes, a msgpack reader reads back the same document.
TEST(MsgpackWriter, RoundTripsThroughAReader) {
  Json doc = {{"uuid", "t-1"},
              {"n", -1},
              {"big", 70000},
              {"ok", true},
              {"none", nullptr},
              {"duration", 0.25},
              {"list", {"a", 2, {{"nested", "\xc3\xa9t\xc3\xa9"}}}},
              {"s40", std::string(40, 'x')}};
  std::string bytes = PackMsgpack(doc);
  EXPECT_EQ(Json::from_msgpack(bytes), doc);
}

}  // namespace
}  // namespace verdi
