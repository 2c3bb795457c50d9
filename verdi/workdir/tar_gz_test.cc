#include "verdi/workdir/tar_gz.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/test_files.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

using test_files::Read;

// Checked with GNU tar: what users will open the archives with.
TEST(TarGzTest, GnuTarExtractsWhatWasArchived) {
  char tmpl[] = "/tmp/verdi_tar_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  fs::path base = tmpl;
  fs::path dir = base / "job-1";
  std::string long_name(150, 'n');
  fs::create_directories(dir / "sub" / long_name);
  std::ofstream(dir / "_stdout.txt") << "hello\n";
  std::ofstream(dir / "empty");
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 % 251);
  std::ofstream(dir / "sub" / long_name / "big.bin", std::ios::binary) << big;
  chmod((dir / "_stdout.txt").c_str(), 0640);
  fs::create_symlink("/etc/passwd", dir / "link");
  fs::create_symlink("../" + std::string(120, 't'), dir / "long-link");
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);

  int skipped = -1;
  Status st = WriteTarGz(dir, "job-1", base / "out.tar.gz", &skipped);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(skipped, 1);  // the FIFO
  fs::create_directory(base / "x");
  std::string cmd = "tar -xzf " + (base / "out.tar.gz").string() + " -C " + (base / "x").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  fs::path got = base / "x" / "job-1";
  EXPECT_EQ(Read(got / "_stdout.txt"), "hello\n");
  EXPECT_EQ(fs::status(got / "_stdout.txt").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_EQ(Read(got / "empty"), "");
  EXPECT_EQ(Read(got / "sub" / long_name / "big.bin"), big);
  EXPECT_EQ(fs::read_symlink(got / "link"), "/etc/passwd");  // kept as a link, not followed
  EXPECT_EQ(fs::read_symlink(got / "long-link"), "../" + std::string(120, 't'));
  EXPECT_FALSE(fs::exists(fs::symlink_status(got / "fifo")));
  fs::remove_all(base);
}

TEST(TarGzTest, ErrorsNameThePath) {
  Status st = WriteTarGz("/nonexistent/dir", "x", "/tmp/never.tar.gz");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/nonexistent/dir"), std::string::npos);
  char tmpl[] = "/tmp/verdi_tar_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  st = WriteTarGz(tmpl, "x", std::string(tmpl) + "/no/such/dir/out.tar.gz");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no/such/dir/out.tar.gz"), std::string::npos) << st.message();
  fs::remove_all(tmpl);
}

}  // namespace
}  // namespace verdi
