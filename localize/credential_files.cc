#include "localize/credential_files.h"

#include <cstdlib>
#include <fstream>

namespace verdi::localize {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string GetEnv(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string HomeDir() {
  std::string home = GetEnv("HOME");
  return home.empty() ? "/root" : home;
}

bool ReadIniSection(const std::string& path, const std::string& name,
                    std::map<std::string, std::string>* out) {
  std::ifstream in(path);
  if (!in) return false;
  bool found = false, inside = false;
  std::string line;
  while (std::getline(in, line)) {
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      inside = Trim(t.substr(1, t.size() - 2)) == name;
      found = found || inside;
      continue;
    }
    size_t eq = t.find('=');
    if (inside && eq != std::string::npos) (*out)[Trim(t.substr(0, eq))] = Trim(t.substr(eq + 1));
  }
  return found;
}

}  // namespace verdi::localize
