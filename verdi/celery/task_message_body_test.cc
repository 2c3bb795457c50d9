// The bodies of Celery messages on the wire: json and msgpack, kombu's
// compression and type markers, content types, and the limits on size,
// nesting and UTF-8.
#include "verdi/celery/task_message.h"

#include <zlib.h>

#include <string>

#include <gtest/gtest.h>

#include "verdi/celery/task_message_testing.h"

namespace verdi {
namespace {

using namespace celery_testing;

TEST(CeleryMessageDecode, MsgpackBinBecomesStringAndScalarsKeepTheirTypes) {
  // send_task('proj.tasks.blob', args=(b'\x00\xffab', 1.5, -7, True, None, [1, {'k': 'v'}]),
  //           kwargs={'big': 2**40}, serializer='msgpack')
  Delivery d;
  d.content_type = "application/x-msgpack";
  d.headers = {{"task", "proj.tasks.blob"}, {"id", "id-mp"}};
  d.body = FromHex(
      "9396c40400ff6162cb3ff8000000000000f9c3c0920181a16ba17681a3626967cf000001000000000084a96361"
      "6c6c6261636b73c0a86572726261636b73c0a5636861696ec0a563686f7264c0");
  TaskMessage m;
  ASSERT_TRUE(Decode(d, &m).ok());
  ASSERT_EQ(m.args.size(), 6u);
  EXPECT_EQ(m.args[0], Json(std::string("\x00\xff"
                                        "ab",
                                        4)));
  EXPECT_EQ(m.args[1], 1.5);
  EXPECT_EQ(m.args[2], -7);
  EXPECT_EQ(m.args[3], true);
  EXPECT_TRUE(m.args[4].is_null());
  EXPECT_EQ(m.args[5], Json::parse(R"([1, {"k": "v"}])"));
  EXPECT_EQ(m.kwargs["big"], uint64_t{1} << 40);
}

TEST(CeleryMessageDecode, MsgpackErrors) {
  Delivery d;
  d.content_type = "application/x-msgpack";
  d.headers = {{"task", "t.x"}, {"id", "id-1"}};
  d.body = FromHex("9392");  // array(3) of array(2), then nothing
  EXPECT_EQ(DecodeError(d).rfind("body: invalid msgpack: ", 0), 0u) << DecodeError(d);
  d.body = FromHex("9391a2c3289080");  // "\xc3\x28" is not UTF-8
  EXPECT_EQ(DecodeError(d), "body: invalid msgpack: a string is not valid UTF-8");
  d.body = FromHex("9391d40501c0c0");  // fixext1 of type 5
  EXPECT_EQ(DecodeError(d), "body: msgpack extension type 5 is not supported");
  d.body = FromHex("9391cb7ff8000000000000c0c0");  // NaN
  EXPECT_EQ(DecodeError(d), "body: a number is NaN or infinite");
  d.body = FromHex("939080c0c0");  // four values where one is expected
  EXPECT_EQ(DecodeError(d).rfind("body: invalid msgpack: ", 0), 0u) << DecodeError(d);
}

// kombu.compression.compress(body, 'gzip') of
// b'[[2, "\\u00e9"], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]':
// a zlib stream (78 9c ...), not gzip framing, with compression="application/x-gzip".
constexpr char kKombuGzipHex[] =
    "789c8b8e36d251508a29353048b5548ad551a8ae0562a5e4c49c9ca4c4e4ec62252b85bcd29c1ca092d4a2223491"
    "e48cc4cc3c646e7e510a945b1b0b00a9111bd2";

TEST(CeleryMessageDecode, KombuGzipCompressionIsAZlibStream) {
  for (const char* name : {"application/x-gzip", "gzip", "zlib"}) {
    Delivery d = Minimal(FromHex(kKombuGzipHex));
    d.headers["compression"] = name;
    TaskMessage m;
    Status st = Decode(d, &m);
    ASSERT_TRUE(st.ok()) << name << ": " << st.message();
    EXPECT_EQ(m.args, Json::parse(R"([2, "\u00e9"])")) << name;
  }
}

TEST(CeleryMessageDecode, RefusesOtherCompressionByName) {
  Delivery d = Minimal("BZh9...");
  d.headers["compression"] = "application/x-bz2";
  EXPECT_EQ(DecodeError(d),
            "headers.compression: application/x-bz2 is not supported (supported: "
            "application/x-gzip, also named gzip or zlib)");
  d.headers["compression"] = 7;
  EXPECT_EQ(DecodeError(d), "headers.compression: expected a string, got 7");
  d = Minimal();
  d.headers["compression"] = nullptr;  // null and "" mean not compressed, as in kombu
  EXPECT_EQ(DecodeError(d), "");
  d.headers["compression"] = "";
  EXPECT_EQ(DecodeError(d), "");
}

std::string ZlibCompress(const std::string& data) {
  uLongf size = compressBound(data.size());
  std::string out(size, '\0');
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                      reinterpret_cast<const Bytef*>(data.data()), data.size(), 9),
            Z_OK);
  out.resize(size);
  return out;
}

TEST(CeleryMessageDecode, DecompressionStopsPastTheLimit) {
  // 64 MiB of spaces (valid JSON whitespace) compress to ~64 KiB.
  std::string bomb = ZlibCompress("[[], {}, null]" + std::string(64 << 20, ' '));
  ASSERT_LT(bomb.size(), 1u << 20);
  Delivery d = Minimal(bomb);
  d.headers["compression"] = "application/x-gzip";
  EXPECT_EQ(DecodeError(d, {.max_body_bytes = 1 << 20}),
            "body: decompresses to more than the 1048576 bytes allowed");
}

TEST(CeleryMessageDecode, CorruptAndTruncatedZlib) {
  std::string good = FromHex(kKombuGzipHex);
  Delivery d = Minimal(good.substr(0, good.size() - 6));
  d.headers["compression"] = "gzip";
  EXPECT_EQ(DecodeError(d), "body: the compressed stream is truncated");
  d.body = "not zlib at all";
  EXPECT_EQ(DecodeError(d), "body: invalid zlib data: incorrect header check");
  d.body = good + "trailing";  // ignored, as Python's zlib.decompress does
  EXPECT_EQ(DecodeError(d), "");
}

TEST(CeleryMessageDecode, BodySizeIsCheckedBeforeDecoding) {
  Delivery d = Minimal(std::string(10485760, '!'));  // not JSON: the size is what is reported
  EXPECT_EQ(DecodeError(d, {.max_body_bytes = 8388608}),
            "body is 10485760 bytes, more than the 8388608 allowed");
  d.body = "[[], {}, null]" + std::string(8388608 - 14, ' ');  // exactly the limit
  EXPECT_EQ(DecodeError(d, {.max_body_bytes = 8388608}), "");
}

TEST(CeleryMessageDecode, ContentTypes) {
  Delivery d = Minimal();
  d.content_type = "application/x-python-serialize";
  EXPECT_EQ(DecodeError(d),
            "content_type: application/x-python-serialize (pickle) is refused: verdi never "
            "unpickles");
  d.content_type = "application/x-yaml";
  EXPECT_EQ(
      DecodeError(d),
      "content_type: application/x-yaml (yaml) is refused: verdi reads only json and msgpack");
  d.content_type = "";
  EXPECT_EQ(DecodeError(d),
            "content_type: is missing, expected application/json or application/x-msgpack");
  d.content_type = "text/plain";
  EXPECT_EQ(DecodeError(d),
            "content_type: text/plain is not supported (supported: application/json, "
            "application/x-msgpack)");
  d.content_type = "text/\n";
  EXPECT_EQ(DecodeError(d),
            "content_type: \"text/\\n\" is not supported (supported: application/json, "
            "application/x-msgpack)");
  d.content_type = " Application/JSON; charset=utf-8";
  EXPECT_EQ(DecodeError(d), "");
}

TEST(CeleryMessageDecode, InvalidJson) {
  EXPECT_EQ(
      DecodeError(Minimal("[[1, 2], {}")),
      "body: invalid JSON: parse error at line 1, column 12: syntax error while parsing array - "
      "unexpected end of input; "
      "expected ']'");
  EXPECT_EQ(DecodeError(Minimal("")).rfind("body: invalid JSON: ", 0), 0u);
  EXPECT_EQ(DecodeError(Minimal("[[], {}, null] x")).rfind("body: invalid JSON: ", 0), 0u);
  EXPECT_EQ(DecodeError(Minimal("[[\"\xc3\x28\"], {}, null]")).rfind("body: invalid JSON: ", 0),
            0u);
  EXPECT_EQ(DecodeError(Minimal("[[1e400], {}, null]")),
            "body: invalid JSON: number overflow parsing '1e400'");
}

TEST(CeleryMessageDecode, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain caf\u00e9 \U0001F600"));
  EXPECT_FALSE(IsValidUtf8("\xc0\x80"));          // overlong NUL
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // cut short
}

TEST(CeleryMessageDecode, BodyAloneForOtherMessages) {
  Json doc;
  ASSERT_TRUE(
      DecodeMessageBody("application/json", nullptr, R"({"method": "ping"})", {}, &doc).ok());
  EXPECT_EQ(doc, Json::parse(R"({"method": "ping"})"));
  Json gzip = "gzip";
  ASSERT_TRUE(DecodeMessageBody("application/json", &gzip, FromHex(kKombuGzipHex), {}, &doc).ok());
  EXPECT_EQ(doc[0], Json::parse(R"([2, "\u00e9"])"));
}

TEST(CeleryMessageDecode, NestingDepthIsLimited) {
  std::string deep = std::string(200, '[') + std::string(200, ']');
  EXPECT_EQ(DecodeError(Minimal("[[" + deep + "], {}, null]")),
            "body: nested deeper than 128 levels");
  std::string ok = std::string(126, '[') + std::string(126, ']');  // 128 with body and args
  EXPECT_EQ(DecodeError(Minimal("[[" + ok + "], {}, null]")), "");
  Delivery d;
  d.content_type = "application/x-msgpack";
  d.headers = {{"task", "t.x"}, {"id", "id-1"}};
  d.body = std::string(100000, '\x91');  // the recursive msgpack reader stops early too
  EXPECT_EQ(DecodeError(d), "body: nested deeper than 128 levels");
}

TEST(CeleryMessageDecode, KombuTypeMarkers) {
  // kombu >= 5.3 (kombu/utils/json.py): {"__type__": T, "__value__": V}.
  Delivery d = Minimal(R"([
    [{"__type__": "datetime", "__value__": "2026-11-23T08:04:54.022062+00:00"},
     {"__type__": "date", "__value__": "2026-11-23"},
     {"__type__": "time", "__value__": "08:04:54"},
     {"__type__": "decimal", "__value__": "3.14"},
     {"__type__": "uuid", "__value__": {"hex": "D2E2B4A1000040008000000000000001", "version": 4}},
     {"__type__": "bytes", "__value__": "caf\u00e9"},
     {"__type__": "base64", "__value__": "AP9hYg=="},
     {"__type__": "datetime", "__value__": "x", "extra": 1}],
    {"nested": [{"k": {"__type__": "decimal", "__value__": "1"}}]},
    null])");
  TaskMessage m;
  Status st = Decode(d, &m);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(m.args[0], "2026-11-23T08:04:54.022062+00:00");
  EXPECT_EQ(m.args[1], "2026-11-23");
  EXPECT_EQ(m.args[2], "08:04:54");
  EXPECT_EQ(m.args[3], "3.14");
  EXPECT_EQ(m.args[4], "d2e2b4a1-0000-4000-8000-000000000001");
  EXPECT_EQ(m.args[5], "caf\u00e9");
  EXPECT_EQ(m.args[6], std::string("\x00\xff"
                                   "ab",
                                   4));
  EXPECT_EQ(m.args[7], Json::parse(R"({"__type__": "datetime", "__value__": "x", "extra": 1})"));
  EXPECT_EQ(m.kwargs, Json::parse(R"({"nested": [{"k": "1"}]})"));
}

TEST(CeleryMessageDecode, BadKombuTypeMarkers) {
  EXPECT_EQ(DecodeError(Minimal(R"([[1, {"__type__": "pickle", "__value__": "x"}], {}, null])")),
            "body[0][1]: unsupported kombu type marker \"pickle\"");
  EXPECT_EQ(DecodeError(Minimal(R"([[], {"a": {"__type__": "datetime", "__value__": 3}}, null])")),
            "body[1].a: kombu datetime marker: expected a string, got 3");
  EXPECT_EQ(DecodeError(Minimal(R"([[{"__type__": "base64", "__value__": "YQ"}], {}, null])")),
            "body[0][0]: kombu base64 marker: expected base64 text, got \"YQ\"");
  EXPECT_EQ(
      DecodeError(Minimal(R"([[{"__type__": "uuid", "__value__": {"hex": "12"}}], {}, null])")),
      "body[0][0]: kombu uuid marker: expected {\"hex\": <32 hex digits>}, got an object");
}

}  // namespace
}  // namespace verdi
