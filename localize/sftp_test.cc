// sftp:// against a real sshd (tests/sftp_server.py: OpenSSH on a loopback
// port with its own host key, client key and authorized_keys).
#include <gtest/gtest.h>
#include <pwd.h>

#include <fstream>
#include <sstream>

#include "localize/fetch.h"
#include "localize/test_server.h"
#include "tests/test_files.h"

namespace verdi::localize {
namespace {
namespace fs = std::filesystem;

using test_files::Read;

class SftpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new TestServer();
    std::string port = server_->Start("sftp_server.py", {});
    ASSERT_FALSE(port.empty()) << "tests/sftp_server.py did not start (openssh-server?)";
    host_ = "127.0.0.1:" + port;
    const passwd* pw = getpwuid(geteuid());
    ASSERT_NE(pw, nullptr);
    user_ = pw->pw_name;
  }
  static void TearDownTestSuite() { delete server_; }
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_sftp_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "remote/sub");
    std::ofstream(dir_ / "remote/sub/a.txt") << "over sftp\n";
    opts_.backoff_seconds = 5;  // a retry would show in the time taken
    opts_.transfer.ssh_private_key = (server_->dir() / "ssh/client_key").string();
    opts_.transfer.ssh_known_hosts = (server_->dir() / "ssh/known_hosts").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Url(const std::string& rel) {
    return "sftp://" + user_ + "@" + host_ + (dir_ / "remote" / rel).string();
  }

  static inline TestServer* server_ = nullptr;
  static inline std::string host_, user_;
  fs::path dir_;
  FetchOptions opts_;
  std::vector<FetchResult> results_;
};

TEST_F(SftpTest, FetchesWithTheKeyAndAKnownHost) {
  Status st = FetchAll({{Url("sub/a.txt"), dir_ / "job/a.txt"}}, opts_, &results_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dir_ / "job/a.txt"), "over sftp\n");
  EXPECT_EQ(results_[0].bytes, 10u);
}

TEST_F(SftpTest, MissingFileFailsAtOnce) {
  auto t0 = std::chrono::steady_clock::now();
  Status st = FetchAll({{Url("sub/none.txt"), dir_ / "job/none.txt"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_NE(st.message().find("not found"), std::string::npos) << st.message();
  EXPECT_TRUE(st.IsNotFound()) << st.message();
  EXPECT_EQ(results_[0].tries, 1);
  EXPECT_FALSE(fs::exists(dir_ / "job/none.txt"));
}

TEST_F(SftpTest, UnknownHostKeyIsRefused) {
  // A known_hosts that lists another key for the server.
  std::ifstream in(server_->dir() / "ssh/client_key.pub");
  std::string type, key;
  in >> type >> key;
  std::ofstream(dir_ / "known_hosts")
      << "[" << host_.substr(0, host_.find(':')) << "]:" << host_.substr(host_.find(':') + 1) << " "
      << type << " " << key << "\n";
  opts_.transfer.ssh_known_hosts = (dir_ / "known_hosts").string();
  auto t0 = std::chrono::steady_clock::now();
  Status st = FetchAll({{Url("sub/a.txt"), dir_ / "job/a.txt"}}, opts_, &results_);
  ASSERT_FALSE(st.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_FALSE(fs::exists(dir_ / "job/a.txt"));
}

}  // namespace
}  // namespace verdi::localize
