#include "jobspec/url_escape.h"

#include <gtest/gtest.h>

namespace verdi {
namespace {

TEST(UrlEscapeTest, LenientIsPythonsUnquote) {
  EXPECT_EQ(PercentDecode("p%40ss%2Fw%3a+x"), "p@ss/w:+x");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
}

TEST(UrlEscapeTest, StrictRefusesBadEscapesAndQueriesTakePlus) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a+b%20c", true, true, &out));
  EXPECT_EQ(out, "a b c");
  EXPECT_TRUE(PercentDecode("a+b", false, true, &out));
  EXPECT_EQ(out, "a+b");
  EXPECT_FALSE(PercentDecode("50%", false, true, &out));
  EXPECT_FALSE(PercentDecode("%g1", false, true, &out));
}

}  // namespace
}  // namespace verdi
