// ftp:// against a real FTP server (tests/ftp_server.py, pyftpdlib).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "localize/fetch.h"
#include "localize/test_server.h"
#include "tests/test_files.h"

namespace verdi::localize {
namespace {
namespace fs = std::filesystem;

using test_files::Read;

class FtpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/verdi_ftproot_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ / "pub/dir");
    std::ofstream(root_ / "pub/dir/a.txt") << "ftp file a\n";
    std::ofstream(root_ / "pub/big.bin") << std::string(2000000, 'b');
    server_ = new TestServer();
    std::string port = server_->Start("ftp_server.py", {root_.string()});
    ASSERT_FALSE(port.empty()) << "tests/ftp_server.py did not start (python3-pyftpdlib?)";
    host_ = "127.0.0.1:" + port;
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(root_);
  }
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_ftp_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    opts_.backoff_seconds = 5;  // a retry would show in the time taken
    opts_.log = [this](const std::string& line) { log_ += line + "\n"; };
    opts_.progress = [this](const std::string& line) { log_ += line + "\n"; };
  }
  void TearDown() override { fs::remove_all(dir_); }

  static inline TestServer* server_ = nullptr;
  static inline fs::path root_;
  static inline std::string host_;
  fs::path dir_;
  FetchOptions opts_;
  std::string log_;
  std::vector<FetchResult> results_;
};

TEST_F(FtpTest, AnonymousAndLoggedInFetches) {
  Status st = FetchAll({{"ftp://" + host_ + "/pub/dir/a.txt", dir_ / "a.txt"},
                        {"ftp://ftpuser:ftp-pass-9x@" + host_ + "/pub/big.bin", dir_ / "big.bin"}},
                       opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "a.txt"), "ftp file a\n");
  EXPECT_EQ(fs::file_size(dir_ / "big.bin"), 2000000u);
  EXPECT_EQ(results_[1].bytes, 2000000u);
  EXPECT_NE(Read(server_->dir() / "port.log").find("USER 'ftpuser' logged in"), std::string::npos);
  EXPECT_EQ(log_.find("ftp-pass-9x"), std::string::npos) << log_;
  EXPECT_NE(log_.find("finished ftp://ftpuser:***@" + host_ + "/pub/big.bin: 2.0 MB in "),
            std::string::npos)
      << log_;
}

TEST_F(FtpTest, MissingFileFailsAtOnce) {
  auto t0 = std::chrono::steady_clock::now();
  Status st = FetchAll({{"ftp://" + host_ + "/pub/none.txt", dir_ / "none.txt"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(results_[0].tries, 1);
  EXPECT_NE(st.message().find("/pub/none.txt"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("not found"), std::string::npos) << st.message();
  EXPECT_TRUE(st.IsNotFound()) << st.message();
  EXPECT_FALSE(fs::exists(dir_ / "none.txt"));
  EXPECT_FALSE(fs::exists(dir_ / "none.txt.part"));
}

TEST_F(FtpTest, BadPasswordFailsAtOnceAndIsNeverPrinted) {
  auto t0 = std::chrono::steady_clock::now();
  Status st = FetchAll({{"ftp://ftpuser:hunter2-ftp@" + host_ + "/pub/dir/a.txt", dir_ / "a.txt"}},
                       opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(st.message().find("hunter2-ftp"), std::string::npos) << st.message();
  EXPECT_EQ(log_.find("hunter2-ftp"), std::string::npos) << log_;
  EXPECT_NE(st.message().find("ftp://ftpuser:***@" + host_), std::string::npos) << st.message();
}

}  // namespace
}  // namespace verdi::localize
