// Small file helpers for C++ tests: read a whole file, write one (with its
// parent directories).
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace verdi::test_files {

/// The file's content ("" when it cannot be read).
inline std::string Read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void Write(const std::filesystem::path& p, const std::string& text) {
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

}  // namespace verdi::test_files
