#include "localize/fetch.h"

#include "localize/cache.h"
#include "tests/test_files.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace verdi::localize {
namespace {
namespace fs = std::filesystem;

using test_files::Read;

class FetchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/verdi_fetch_srv_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    srv_dir_ = tmpl;
    std::string script = std::string(VERDI_SOURCE_DIR) + "/tests/http_test_server.py";
    std::string port_file = (srv_dir_ / "port").string();
    const char* argv[] = {VERDI_PYTHON, script.c_str(), port_file.c_str(), nullptr};
    ASSERT_EQ(posix_spawn(&pid_, VERDI_PYTHON, nullptr, nullptr, const_cast<char**>(argv), environ),
              0);
    for (int i = 0; i < 200 && !fs::exists(port_file); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(fs::exists(port_file)) << "the test HTTP server did not start";
    base_ = "http://127.0.0.1:" + Read(port_file);
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(srv_dir_);
  }
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_fetch_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    opts_.backoff_seconds = 0.05;
    opts_.log = [this](const std::string& line) { log_ += line + "\n"; };
    opts_.progress = opts_.log;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static inline pid_t pid_ = 0;
  static inline fs::path srv_dir_;
  static inline std::string base_;
  fs::path dir_;
  FetchOptions opts_;
  std::string log_;
};

TEST_F(FetchTest, HttpFetch) {
  std::vector<FetchResult> results;
  Status st = FetchAll({{base_ + "/files/a.txt", dir_ / "sub/a.txt"}}, opts_, &results);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "sub/a.txt"), "content of a.txt\n");
  EXPECT_FALSE(fs::exists(dir_ / "sub/a.txt.part"));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].bytes, 17u);
  EXPECT_EQ(results[0].tries, 1);
  EXPECT_GE(results[0].time_end, results[0].time_start);
}

TEST_F(FetchTest, NotFoundFailsAtOnceNamingTheUrl) {
  std::vector<FetchResult> results;
  opts_.backoff_seconds = 5;  // a retry would show in the time taken
  auto t0 = std::chrono::steady_clock::now();
  Status st = FetchAll({{base_ + "/status/404/missing.txt", dir_ / "m.txt"}}, opts_, &results);
  ASSERT_FALSE(st.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_NE(st.message().find("/status/404/missing.txt"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("404"), std::string::npos) << st.message();
  EXPECT_TRUE(st.IsNotFound()) << st.message();
  EXPECT_EQ(results[0].tries, 1);
  EXPECT_FALSE(fs::exists(dir_ / "m.txt"));
  EXPECT_FALSE(fs::exists(dir_ / "m.txt.part"));
  for (int code : {401, 403}) {
    st =
        FetchAll({{base_ + "/status/" + std::to_string(code) + "/x", dir_ / "x"}}, opts_, &results);
    EXPECT_FALSE(st.ok());
    EXPECT_FALSE(st.IsNotFound()) << code;  // denied is not absent
    EXPECT_EQ(results[0].tries, 1) << code;
  }
}

TEST_F(FetchTest, RetriesTransientFailures) {
  std::vector<FetchResult> results;
  Status st = FetchAll({{base_ + "/flaky/2/k1/f.txt", dir_ / "f.txt"}}, opts_, &results);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(results[0].tries, 3);
  EXPECT_EQ(Read(dir_ / "f.txt"), "content of f.txt\n");
  EXPECT_NE(log_.find("503"), std::string::npos) << log_;

  opts_.tries = 3;
  st = FetchAll({{base_ + "/flaky/5/k2/g.txt", dir_ / "g.txt"}}, opts_, &results);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(results[0].tries, 3);
  EXPECT_NE(st.message().find("503"), std::string::npos) << st.message();
  EXPECT_FALSE(fs::exists(dir_ / "g.txt"));
}

TEST_F(FetchTest, Http202IsNotAFileAndIsTriedAgain) {
  std::vector<FetchResult> results;
  opts_.tries = 2;
  Status st = FetchAll({{base_ + "/status/202/later.bin", dir_ / "later.bin"}}, opts_, &results);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(results[0].tries, 2);
  EXPECT_NE(st.message().find("HTTP 202"), std::string::npos) << st.message();
  EXPECT_FALSE(fs::exists(dir_ / "later.bin"));
}

TEST_F(FetchTest, StallTimesOut) {
  std::vector<FetchResult> results;
  opts_.transfer.stall_seconds = 1;
  opts_.transfer.stall_bytes_per_second = 100;
  opts_.tries = 2;
  auto t0 = std::chrono::steady_clock::now();
  Status st = FetchAll({{base_ + "/stall/s.bin", dir_ / "s.bin"}}, opts_, &results);
  ASSERT_FALSE(st.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_EQ(results[0].tries, 2);
  EXPECT_FALSE(fs::exists(dir_ / "s.bin.part"));
}

TEST_F(FetchTest, CancelStopsAStalledTransferAtOnce) {
  std::atomic<bool> cancel{false};
  opts_.cancelled = [&] { return cancel.load(); };
  opts_.progress_seconds = 0.2;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    cancel = true;
  });
  std::vector<FetchResult> results;
  auto t0 = std::chrono::steady_clock::now();
  Status st = FetchAll({{base_ + "/stall/s.bin", dir_ / "s.bin"}}, opts_, &results);
  auto took = std::chrono::steady_clock::now() - t0;
  canceller.join();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cancelled"), std::string::npos) << st.message();
  EXPECT_LT(took, std::chrono::milliseconds(700 + 1000));
  EXPECT_FALSE(fs::exists(dir_ / "s.bin"));
  EXPECT_FALSE(fs::exists(dir_ / "s.bin.part"));
  // Progress lines while it hung: bytes so far of the announced size.
  EXPECT_NE(log_.find("started " + base_ + "/stall/s.bin"), std::string::npos) << log_;
  EXPECT_NE(log_.find(base_ + "/stall/s.bin: 3 B of 1.0 MB (0 %) in "), std::string::npos) << log_;
}

TEST_F(FetchTest, ConnectionRefusedIsRetried) {
  std::vector<FetchResult> results;
  opts_.tries = 2;
  Status st = FetchAll({{"http://127.0.0.1:1/x", dir_ / "x"}}, opts_, &results);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(results[0].tries, 2);
}

TEST_F(FetchTest, ParallelFetchOfTwentyFiles) {
  std::vector<FetchItem> items;
  for (int i = 0; i < 20; ++i) {
    std::string name = "f" + std::to_string(i) + ".txt";
    // Some of them fail once first.
    std::string url = i % 5 == 0 ? base_ + "/flaky/1/p" + std::to_string(i) + "/" + name
                                 : base_ + "/files/" + name;
    items.push_back({url, dir_ / "in" / name});
  }
  items.push_back({base_ + "/size/3000000/big.bin", dir_ / "big.bin"});
  std::vector<FetchResult> results;
  opts_.parallel = 4;
  Status st = FetchAll(items, opts_, &results);
  ASSERT_TRUE(st.ok()) << st.message();
  for (int i = 0; i < 20; ++i) {
    std::string name = "f" + std::to_string(i) + ".txt";
    EXPECT_EQ(Read(dir_ / "in" / name), "content of " + name + "\n");
  }
  EXPECT_EQ(fs::file_size(dir_ / "big.bin"), 3000000u);
  EXPECT_EQ(results[20].bytes, 3000000u);
}

TEST_F(FetchTest, OneFailureStopsTheRest) {
  std::vector<FetchItem> items;
  items.push_back({base_ + "/status/404/bad", dir_ / "bad"});
  for (int i = 0; i < 10; ++i)
    items.push_back({base_ + "/files/" + std::to_string(i), dir_ / std::to_string(i)});
  std::vector<FetchResult> results;
  opts_.parallel = 1;
  Status st = FetchAll(items, opts_, &results);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/status/404/bad"), std::string::npos);
  EXPECT_FALSE(results[10].status.ok());
  EXPECT_FALSE(fs::exists(dir_ / "9"));
}

TEST_F(FetchTest, CredentialsNeverPrinted) {
  std::vector<FetchResult> results;
  std::string host = base_.substr(std::string("http://").size());
  Status st =
      FetchAll({{"http://user:secret@" + host + "/auth/a.txt", dir_ / "a.txt"}}, opts_, &results);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "a.txt"), "secret content\n");
  st = FetchAll({{"http://user:wrongpass@" + host + "/auth/b.txt", dir_ / "b.txt"}}, opts_,
                &results);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().find("wrongpass"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("http://user:***@"), std::string::npos) << st.message();
  opts_.tries = 2;
  st = FetchAll({{"http://user:hunter2@127.0.0.1:1/c.txt", dir_ / "c.txt"}}, opts_, &results);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().find("hunter2"), std::string::npos) << st.message();
  EXPECT_EQ(log_.find("hunter2"), std::string::npos) << log_;
  EXPECT_NE(log_.find("user:***@"), std::string::npos) << log_;
}

TEST_F(FetchTest, DavIsFetchedAsHttpWithItsCredentialsAndRetries) {
  std::vector<FetchResult> results;
  std::string host = base_.substr(std::string("http://").size());
  Status st = FetchAll({{"dav://user:secret@" + host + "/auth/a.txt", dir_ / "a.txt"},
                        {"dav://" + host + "/flaky/1/dav1/f.txt", dir_ / "f.txt"}},
                       opts_, &results);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "a.txt"), "secret content\n");
  EXPECT_EQ(Read(dir_ / "f.txt"), "content of f.txt\n");
  EXPECT_EQ(results[1].tries, 2);
  EXPECT_NE(log_.find("finished dav://user:***@" + host + "/auth/a.txt"), std::string::npos)
      << log_;
  EXPECT_EQ(log_.find("secret@"), std::string::npos) << log_;
  // davs:// is https: a plain HTTP server fails the TLS handshake.
  opts_.tries = 1;
  st = FetchAll({{"davs://" + host + "/files/a.txt", dir_ / "b.txt"}}, opts_, &results);
  EXPECT_FALSE(st.ok());
}

TEST_F(FetchTest, FileUrlCopiesFilesAndDirectories) {
  fs::create_directories(dir_ / "src/tree/deep");
  std::ofstream(dir_ / "src/tree/a") << "A";
  std::ofstream(dir_ / "src/tree/deep/b") << "BB";
  std::ofstream(dir_ / "src/one") << "one";
  std::vector<FetchResult> results;
  Status st = FetchAll({{"file://" + (dir_ / "src/tree").string(), dir_ / "job/tree"},
                        {(dir_ / "src/one").string(), dir_ / "job/x/one"}},
                       opts_, &results);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "job/tree/a"), "A");
  EXPECT_EQ(Read(dir_ / "job/tree/deep/b"), "BB");
  EXPECT_EQ(Read(dir_ / "job/x/one"), "one");
  EXPECT_EQ(results[0].bytes, 3u);
  EXPECT_FALSE(fs::exists(dir_ / "job/tree.part"));
  st = FetchAll({{"file://" + (dir_ / "src/none").string(), dir_ / "job/none"}}, opts_, &results);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("src/none"), std::string::npos) << st.message();
}

TEST_F(FetchTest, BadUrlFailsBeforeAnyTransfer) {
  std::vector<FetchResult> results;
  Status st =
      FetchAll({{base_ + "/files/a", dir_ / "a"}, {"s4://x/y", dir_ / "y"}}, opts_, &results);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_FALSE(fs::exists(dir_ / "a"));
}

// Cache: lives in this file to share the HTTP server.
TEST_F(FetchTest, CacheFillsOnceAndLinks) {
  fs::path cache = dir_ / "cache";
  std::string url = base_ + "/files/cached.txt";
  fs::path entry = CacheEntryDir(cache, url);
  opts_.log = opts_.progress = nullptr;  // shared by the threads below
  EXPECT_EQ(entry.lexically_relative(cache).string().size(), std::string("a/b/c/d/").size() + 32);
  std::vector<std::thread> jobs;
  std::vector<Status> statuses(4);
  for (int j = 0; j < 4; ++j) {
    jobs.emplace_back([&, j] {
      std::vector<FetchResult> results;
      fs::path job = dir_ / ("job" + std::to_string(j));
      statuses[j] = LocalizeAll(
          {{url, job / "cached.txt", true}, {base_ + "/files/direct.txt", job / "d.txt", false}},
          cache, opts_, &results);
    });
  }
  for (auto& t : jobs) t.join();
  for (int j = 0; j < 4; ++j) {
    ASSERT_TRUE(statuses[j].ok()) << statuses[j].message();
    fs::path job = dir_ / ("job" + std::to_string(j));
    EXPECT_TRUE(fs::is_symlink(job / "cached.txt"));
    EXPECT_EQ(fs::read_symlink(job / "cached.txt"), entry / "cached.txt");
    EXPECT_EQ(Read(job / "cached.txt"), "content of cached.txt\n");
    EXPECT_FALSE(fs::is_symlink(job / "d.txt"));
    EXPECT_EQ(Read(job / "d.txt"), "content of direct.txt\n");
  }
  EXPECT_TRUE(fs::exists(entry / ".localized"));
  EXPECT_NE(Read(entry / ".localized").find("Z"), std::string::npos);
  // Downloaded once, whatever the number of jobs.
  std::vector<FetchResult> results;
  ASSERT_TRUE(FetchAll({{base_ + "/log", dir_ / "log"}}, opts_, &results).ok());
  std::string log = Read(dir_ / "log");
  size_t n = 0;
  for (size_t pos = 0; (pos = log.find("/files/cached.txt", pos)) != std::string::npos; ++pos) ++n;
  EXPECT_EQ(n, 1u) << log;
  // A hit reports the size, no tries.
  ASSERT_TRUE(LocalizeAll({{url, dir_ / "job9/c", true}}, cache, opts_, &results).ok());
  EXPECT_EQ(results[0].tries, 0);
  EXPECT_EQ(results[0].bytes, 22u);
}

TEST_F(FetchTest, InterruptedFillLeavesNothingThatLooksComplete) {
  fs::path cache = dir_ / "cache";
  std::string url = base_ + "/stall/slow.bin";
  std::atomic<bool> cancel{false};
  opts_.cancelled = [&] { return cancel.load(); };
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  std::vector<FetchResult> results;
  Status st = LocalizeAll({{url, dir_ / "job/slow.bin", true}}, cache, opts_, &results);
  canceller.join();
  ASSERT_FALSE(st.ok());
  fs::path entry = CacheEntryDir(cache, url);
  EXPECT_FALSE(fs::exists(entry));
  for (const auto& e : fs::directory_iterator(entry.parent_path()))
    EXPECT_EQ(e.path().extension(), ".lock") << e.path();  // no .tmp.* left
  EXPECT_FALSE(fs::exists(dir_ / "job/slow.bin"));
}

TEST_F(FetchTest, EntriesInUseCannotBeLockedForEviction) {
  fs::path cache = dir_ / "cache";
  std::string url = base_ + "/files/held.txt";
  std::vector<FetchResult> results;
  {
    CacheHolds holds;
    ASSERT_TRUE(
        LocalizeAll({{url, dir_ / "job/held.txt", true}}, cache, opts_, &results, &holds).ok());
    EXPECT_EQ(holds.size(), 1u);
    CacheEntryLock lock(CacheEntryDir(cache, url));
    EXPECT_FALSE(lock.held());
    // Another job can still use it meanwhile (shared).
    ASSERT_TRUE(LocalizeAll({{url, dir_ / "job2/held.txt", true}}, cache, opts_, &results).ok());
    EXPECT_EQ(results[0].tries, 0);
  }
  CacheEntryLock lock(CacheEntryDir(cache, url));
  EXPECT_TRUE(lock.held());
}

TEST_F(FetchTest, CacheMissFailureLeavesNoEntry) {
  fs::path cache = dir_ / "cache";
  std::string url = base_ + "/status/404/gone.txt";
  std::vector<FetchResult> results;
  Status st = LocalizeAll({{url, dir_ / "job/gone.txt", true}}, cache, opts_, &results);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("gone.txt"), std::string::npos);
  fs::path entry = CacheEntryDir(cache, url);
  EXPECT_FALSE(fs::exists(entry));
  for (const auto& e : fs::directory_iterator(entry.parent_path()))
    EXPECT_EQ(e.path().extension(), ".lock") << e.path();
  EXPECT_FALSE(fs::exists(dir_ / "job/gone.txt"));
}

}  // namespace
}  // namespace verdi::localize
