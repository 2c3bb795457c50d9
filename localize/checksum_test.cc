#include "localize/checksum.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace verdi::localize {
namespace {
namespace fs = std::filesystem;

void Write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }

class ChecksumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_sum_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ChecksumTest, Digests) {
  Write(dir_ / "f", "abc");
  std::string hex;
  ASSERT_TRUE(FileDigest(dir_ / "f", "md5", &hex).ok());
  EXPECT_EQ(hex, "900150983cd24fb0d6963f7d28e17f72");
  ASSERT_TRUE(FileDigest(dir_ / "f", "sha1", &hex).ok());
  EXPECT_EQ(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
  ASSERT_TRUE(FileDigest(dir_ / "f", "sha256", &hex).ok());
  EXPECT_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  for (const char* a : {"sha224", "sha384", "sha512"})
    EXPECT_TRUE(FileDigest(dir_ / "f", a, &hex).ok()) << a;
  EXPECT_TRUE(FileDigest(dir_ / "f", "crc32", &hex).IsInvalid());
  // Known answers from Python's hashlib (what HySDS uses).
  ASSERT_TRUE(FileDigest(dir_ / "f", "sha3_256", &hex).ok());
  EXPECT_EQ(hex, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
  ASSERT_TRUE(FileDigest(dir_ / "f", "sha3-256", &hex).ok());
  EXPECT_EQ(hex, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
  ASSERT_TRUE(FileDigest(dir_ / "f", "blake2b", &hex).ok());
  EXPECT_EQ(hex,
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5"
            "de4533cc9518d38aa8dbf1925ab92386edd4009923");
  ASSERT_TRUE(FileDigest(dir_ / "f", "blake2s256", &hex).ok());
  EXPECT_EQ(hex, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
  ASSERT_TRUE(FileDigest(dir_ / "f", "shake_128", &hex).ok());
  EXPECT_EQ(hex.size(), 510u);
  EXPECT_EQ(hex.substr(0, 40), "5881092dd818bf5cf8a3ddb793fbcba74097d5c5");
  for (const char* a : {"sha3_224", "sha3_384", "sha3_512", "blake2s", "shake_256"})
    EXPECT_TRUE(FileDigest(dir_ / "f", a, &hex).ok()) << a;
}

TEST_F(ChecksumTest, GoodAndBadSidecars) {
  fs::create_directory(dir_ / "d");
  Write(dir_ / "d/a.dat", "abc");
  Write(dir_ / "d/a.dat.md5", "900150983CD24FB0D6963F7D28E17F72  a.dat\n");
  Write(dir_ / "d/b.dat", "abc");
  Write(dir_ / "d/b.dat.sha256",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n");
  Write(dir_ / "d/orphan.sha1", "whatever\n");  // no sibling: skipped
  Write(dir_ / "top", "abc");
  Write(dir_ / "top.sha1", "a9993e364706816aba3e25717850c26c9cd0d89d");
  Write(dir_ / "d/c.dat", "abc");
  Write(dir_ / "d/c.dat.sha3_256",
        "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532\n");
  Write(dir_ / "d/e.dat", "abc");
  Write(dir_ / "d/e.dat.blake2s",
        "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982\n");
  EXPECT_TRUE(ValidateChecksumFiles({dir_ / "d", dir_ / "top.sha1", dir_ / "top"}).ok());

  Write(dir_ / "d/b.dat", "abd");
  Write(dir_ / "d/e.dat", "abd");
  Write(dir_ / "top", "abd");
  Status st = ValidateChecksumFiles({dir_ / "d", dir_ / "top.sha1"});
  ASSERT_FALSE(st.ok());
  // HySDS's text: a header line, then one line per bad file (in directory order).
  const std::string& msg = st.message();
  EXPECT_EQ(msg.rfind("Files with mismatched checksum:\n", 0), 0u) << msg;
  std::string hex;
  ASSERT_TRUE(FileDigest(dir_ / "d/b.dat", "sha256", &hex).ok());
  EXPECT_NE(msg.find((dir_ / "d/b.dat").string() + ": calculated checksum: " + hex +
                     ", pre-computed checksum: "
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"),
            std::string::npos)
      << msg;
  ASSERT_TRUE(FileDigest(dir_ / "top", "sha1", &hex).ok());
  EXPECT_NE(msg.find((dir_ / "top").string() + ": calculated checksum: " + hex +
                     ", pre-computed checksum: a9993e364706816aba3e25717850c26c9cd0d89d\n"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find((dir_ / "d/e.dat").string() + ": calculated checksum: "), std::string::npos)
      << msg;
  EXPECT_EQ(msg.find("c.dat"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("a.dat"), std::string::npos) << msg;
  EXPECT_EQ(std::count(msg.begin(), msg.end(), '\n'), 4) << msg;
}

}  // namespace
}  // namespace verdi::localize
