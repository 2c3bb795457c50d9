#include "jobspec/disk_usage.h"

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace verdi {
namespace {

uint64_t Parse(std::string_view text) {
  uint64_t bytes = 0;
  Status st = ParseDiskUsage(text, "spec.disk_usage", &bytes);
  EXPECT_TRUE(st.ok()) << text << ": " << st.message();
  return bytes;
}

std::string Rejection(std::string_view text, const std::string& where = "spec.disk_usage") {
  uint64_t bytes = 12345;
  Status st = ParseDiskUsage(text, where, &bytes);
  EXPECT_TRUE(st.IsInvalid()) << "accepted: " << text;
  EXPECT_EQ(bytes, 12345u) << "changed on rejection: " << text;
  return st.message();
}

std::string Expected(const std::string& where, const std::string& text, const char* why = "") {
  return where + ": expected a size such as \"10GB\" (a number then KB, MB, GB or TB), got \"" +
         text + "\"" + why;
}

TEST(ParseDiskUsageTest, PowersOf1024) {
  EXPECT_EQ(Parse("1KB"), 1024u);
  EXPECT_EQ(Parse("10MB"), 10485760u);
  EXPECT_EQ(Parse("1GB"), 1073741824u);
  EXPECT_EQ(Parse("10GB"), 10737418240u);
  EXPECT_EQ(Parse("2TB"), 2199023255552u);
  EXPECT_EQ(Parse("0KB"), 0u);
  EXPECT_EQ(Parse("512MB"), 536870912u);
  EXPECT_EQ(Parse("007KB"), 7168u);
}

TEST(ParseDiskUsageTest, Fractions) {
  EXPECT_EQ(Parse("1.5GB"), 1610612736u);
  EXPECT_EQ(Parse("0.5KB"), 512u);
  EXPECT_EQ(Parse("1.25MB"), 1310720u);
  // Exact binary fractions must not pick up rounding error from the parse.
  EXPECT_EQ(Parse("0.75KB"), 768u);
  EXPECT_EQ(Parse("0.75GB"), 805306368u);
  EXPECT_EQ(Parse("0.375KB"), 384u);
  EXPECT_EQ(Parse("0.875TB"), 962072674304u);
  EXPECT_EQ(Parse("1.75GB"), 1879048192u);
  // A fraction of a byte rounds up: a requirement is never understated.
  EXPECT_EQ(Parse("0.1KB"), 103u);
}

TEST(ParseDiskUsageTest, LargestValues) {
  EXPECT_EQ(Parse("16777215TB"), 18446742974197923840u);
  EXPECT_EQ(Rejection("16777216TB"), Expected("spec.disk_usage", "16777216TB", ": too large"));
}

TEST(ParseDiskUsageTest, RejectsMalformedNumbers) {
  for (const char* text :
       {"-1GB", "1.GB", ".5GB", "1e3GB", "10 GB", " 10GB", "1.2.3GB", "+1GB", "1,5GB", "0x10GB"})
    EXPECT_EQ(Rejection(text), Expected("spec.disk_usage", text)) << text;
}

TEST(ParseDiskUsageTest, RejectsMissingOrShortInput) {
  for (const char* text : {"", "10", "GB", "5"})
    EXPECT_EQ(Rejection(text), Expected("spec.disk_usage", text)) << text;
}

TEST(ParseDiskUsageTest, RejectsUnknownUnits) {
  for (const char* text : {"10gb", "10G", "10Gb", "10B", "10PB", "10GiB", "10GB "})
    EXPECT_EQ(Rejection(text), Expected("spec.disk_usage", text, ": unknown unit")) << text;
}

TEST(ParseDiskUsageTest, MessageStartsWithWhere) {
  EXPECT_EQ(Rejection("10 GB", "job.params._disk_usage"),
            Expected("job.params._disk_usage", "10 GB"));
  EXPECT_EQ(Rejection("10G", "workers.json.configs[0].disk_usage"),
            Expected("workers.json.configs[0].disk_usage", "10G", ": unknown unit"));
}

}  // namespace
}  // namespace verdi
