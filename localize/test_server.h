// Tests only: a server script (tests/*.py) started in a temp dir; it writes
// its port to a file once it listens.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace verdi::localize {

class TestServer {
 public:
  ~TestServer() { Stop(); }

  /// Runs `python3 tests/<script> <dir>/port <args...>`; "" when it did not
  /// come up within `timeout_s`, else its port.
  std::string Start(const std::string& script, const std::vector<std::string>& args,
                    int timeout_s = 120) {
    char tmpl[] = "/tmp/verdi_srv_XXXXXX";
    if (!mkdtemp(tmpl)) return "";
    dir_ = tmpl;
    std::string path = std::string(VERDI_SOURCE_DIR) + "/tests/" + script;
    std::string port_file = (dir_ / "port").string();
    std::vector<std::string> all = {VERDI_PYTHON, path, port_file};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, VERDI_PYTHON, nullptr, nullptr, argv.data(), environ) != 0) return "";
    for (int i = 0; i < timeout_s * 20 && !std::filesystem::exists(port_file); ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::ifstream in(port_file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = 0;
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    dir_.clear();
  }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  pid_t pid_ = 0;
  std::filesystem::path dir_;
};

}  // namespace verdi::localize
