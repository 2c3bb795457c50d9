// The image tarball cache with file:// sources (FetchAll copies them), real
// files and real flocks; HTTP is covered by tests/e2e/test_containers.py.
#include "verdi/container/image_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "base/files.h"
#include "localize/checksum.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

class ImageCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi-image-cache-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    cache_ = dir_ / "cache" / "images";
    opts_.tries = 1;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Source(const std::string& name, const std::string& content) {
    fs::path p = dir_ / "src" / name;
    fs::create_directories(p.parent_path());
    EXPECT_TRUE(WriteFileAtomic(p.string(), content).ok());
    return "file://" + p.string();
  }
  std::string Sha(const std::string& url) {
    std::string hex;
    EXPECT_TRUE(localize::FileDigest(url.substr(7), "sha256", &hex).ok());
    return hex;
  }
  // An entry as GetImageTarball leaves it, last used `age` ago.
  fs::path Entry(const std::string& name, size_t bytes, std::chrono::seconds age) {
    fs::path e = cache_ / name;
    fs::create_directories(e);
    EXPECT_TRUE(WriteFileAtomic((e / "img.tar").string(), std::string(bytes, 'x')).ok());
    EXPECT_TRUE(WriteFileAtomic((e / ".localized").string(), "x\n").ok());
    fs::last_write_time(e / ".localized", fs::file_time_type::clock::now() - age);
    return e;
  }

  fs::path dir_, cache_;
  localize::FetchOptions opts_;
};

TEST_F(ImageCacheTest, DownloadsOnceThenServesFromTheCache) {
  std::string url = Source("img.tar", "image bytes");
  ImageTarball t;
  ASSERT_TRUE(GetImageTarball(cache_, url, std::nullopt, opts_, &t).ok());
  EXPECT_TRUE(t.downloaded());
  EXPECT_EQ(t.file().filename(), "img.tar");
  EXPECT_EQ(t.file().parent_path().parent_path(), cache_);
  t.Release();
  fs::remove(url.substr(7));  // the source is gone: only the cache can answer
  ImageTarball again;
  ASSERT_TRUE(GetImageTarball(cache_, url, std::nullopt, opts_, &again).ok());
  EXPECT_FALSE(again.downloaded());
  std::string content;
  ASSERT_TRUE(ReadFileToString(again.file().string(), &content).ok());
  EXPECT_EQ(content, "image bytes");
}

TEST_F(ImageCacheTest, Sha256GivenOrFromTheSidecar) {
  std::string url = Source("a.tar", "aaa");
  ImageTarball t;
  Status st = GetImageTarball(cache_, url, std::string(64, '0'), opts_, &t);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("sha256 mismatch: expected " + std::string(64, '0')),
            std::string::npos)
      << st.message();
  for (const auto& e : fs::directory_iterator(cache_))
    EXPECT_FALSE(e.is_directory()) << "left behind: " << e.path();
  ASSERT_TRUE(GetImageTarball(cache_, url, "sha256:" + Sha(url), opts_, &t).ok());
  t.Release();
  // A job expecting another digest than the cached download's downloads again.
  Source("a.tar", "rebuilt");
  ASSERT_TRUE(GetImageTarball(cache_, url, Sha(url), opts_, &t).ok());
  EXPECT_TRUE(t.downloaded());
  t.Release();

  std::string side = Source("b.tar", "bbb");
  Source("b.tar.sha256", "FFFF  b.tar\n");
  st = GetImageTarball(cache_, side, std::nullopt, opts_, &t);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("expected ffff (" + side + ".sha256)"), std::string::npos)
      << st.message();
  Source("b.tar.sha256", Sha(side) + "  b.tar\n");
  EXPECT_TRUE(GetImageTarball(cache_, side, std::nullopt, opts_, &t).ok());
}

TEST_F(ImageCacheTest, MissingSourceFailsNamingIt) {
  ImageTarball t;
  Status st =
      GetImageTarball(cache_, "file://" + (dir_ / "nope.tar").string(), std::nullopt, opts_, &t);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("nope.tar"), std::string::npos) << st.message();
}

TEST_F(ImageCacheTest, DiscardedEntryIsDownloadedAgain) {
  std::string url = Source("c.tar", "ccc");
  ImageTarball t;
  ASSERT_TRUE(GetImageTarball(cache_, url, std::nullopt, opts_, &t).ok());
  t.Discard();
  t.Release();
  ASSERT_TRUE(GetImageTarball(cache_, url, std::nullopt, opts_, &t).ok());
  EXPECT_TRUE(t.downloaded());
}

TEST_F(ImageCacheTest, EvictsLeastRecentlyUsedFirstWithinTheBound) {
  // 102 bytes each, with the marker.
  fs::path oldest = Entry("e1", 100, std::chrono::hours(3));
  fs::path middle = Entry("e2", 100, std::chrono::hours(2));
  fs::path newest = Entry("e3", 100, std::chrono::hours(1));
  std::vector<fs::path> removed;
  ASSERT_TRUE(EvictImageTarballs(cache_, 306, &removed).ok());
  EXPECT_TRUE(removed.empty());
  ASSERT_TRUE(EvictImageTarballs(cache_, 150, &removed).ok());
  EXPECT_EQ(removed, (std::vector<fs::path>{oldest, middle}));
  EXPECT_TRUE(fs::exists(newest / "img.tar"));
  ASSERT_TRUE(EvictImageTarballs(cache_, 0, &removed).ok());
  EXPECT_FALSE(fs::exists(newest));
}

TEST_F(ImageCacheTest, NeverEvictsAnEntryInUse) {
  fs::path busy = Entry("busy", 100, std::chrono::hours(5));
  fs::path idle = Entry("idle", 100, std::chrono::hours(1));
  fs::path leftover = cache_ / "idle.tmp.12345";  // an interrupted download
  fs::create_directories(leftover);
  int fd = open((busy.string() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX), 0);
  std::vector<fs::path> removed;
  ASSERT_TRUE(EvictImageTarballs(cache_, 0, &removed).ok());
  EXPECT_TRUE(fs::exists(busy / "img.tar"));
  EXPECT_FALSE(fs::exists(idle));
  EXPECT_FALSE(fs::exists(leftover));
  close(fd);
  ASSERT_TRUE(EvictImageTarballs(cache_, 0, &removed).ok());
  EXPECT_FALSE(fs::exists(busy));
}

TEST_F(ImageCacheTest, UseMakesAnEntryRecent) {
  std::string url = Source("d.tar", std::string(100, 'd'));
  ImageTarball t;
  ASSERT_TRUE(GetImageTarball(cache_, url, std::nullopt, opts_, &t).ok());
  fs::path used = t.file().parent_path();
  t.Release();
  fs::last_write_time(used / ".localized",
                      fs::file_time_type::clock::now() - std::chrono::hours(10));
  fs::path other = Entry("other", 100, std::chrono::hours(5));
  ASSERT_TRUE(GetImageTarball(cache_, url, std::nullopt, opts_, &t).ok());  // a hit: now recent
  EXPECT_FALSE(t.downloaded());
  t.Release();
  std::vector<fs::path> removed;
  ASSERT_TRUE(EvictImageTarballs(cache_, 250, &removed).ok());  // d's entry: ~190 bytes
  EXPECT_EQ(removed, (std::vector<fs::path>{other}));
}

}  // namespace
}  // namespace verdi
