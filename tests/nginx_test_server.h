// For C++ tests that upload over WebDAV: tests/nginx_server.py (Debian's
// nginx with its DAV module) in a temporary directory, stopped at the end.
// The test binary needs VERDI_SOURCE_DIR and VERDI_PYTHON defined.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace verdi::testing {

class NginxServer {
 public:
  /// A URL path matching one of `deny` (regexes) is answered with 403.
  explicit NginxServer(const std::vector<std::string>& deny = {}) {
    char tmpl[] = "/tmp/verdi_nginx_XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return;
    dir_ = tmpl;
    std::string script = std::string(VERDI_SOURCE_DIR) + "/tests/nginx_server.py";
    std::vector<std::string> args = {VERDI_PYTHON, script, dir_.string()};
    for (const auto& d : deny) args.insert(args.end(), {"--deny", d});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, VERDI_PYTHON, nullptr, nullptr, argv.data(), environ) != 0) return;
    std::filesystem::path port_file = dir_ / "port";
    for (int i = 0; i < 1200 && !std::filesystem::exists(port_file); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(port_file);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!ss.str().empty()) url_ = "http://127.0.0.1:" + ss.str();
  }
  ~NginxServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  /// Empty when it did not start (see error.log in dir()).
  const std::string& url() const { return url_; }
  /// What the server serves.
  std::filesystem::path root() const { return dir_ / "root"; }
  std::filesystem::path dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = 0;
  std::string url_;
};

}  // namespace verdi::testing
