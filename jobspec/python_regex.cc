#include "jobspec/python_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fmt/format.h>

namespace verdi {

struct PythonRegex::Code {
  pcre2_code* re = nullptr;
  ~Code() { pcre2_code_free(re); }
};

PythonRegex::PythonRegex() = default;
PythonRegex::~PythonRegex() = default;
PythonRegex::PythonRegex(PythonRegex&&) noexcept = default;
PythonRegex& PythonRegex::operator=(PythonRegex&&) noexcept = default;

Status PythonRegex::Compile(const std::string& pattern, const std::string& what, PythonRegex* out) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  // PCRE2 reads (?P<name>...) as Python does; ALT_BSUX adds \uXXXX.
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 PCRE2_UTF | PCRE2_ALT_BSUX, &error, &offset, nullptr);
  if (re == nullptr) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(error, buffer, sizeof buffer);
    return Status::Invalid(fmt::format("{}: regex does not compile: {} at offset {}", what,
                                       reinterpret_cast<const char*>(buffer), offset));
  }
  PythonRegex compiled;
  compiled.code_ = std::make_unique<Code>();
  compiled.code_->re = re;
  uint32_t count = 0, entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count);
  pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table);
  for (uint32_t i = 0; i < count; ++i)
    compiled.names_.insert(reinterpret_cast<const char*>(table + i * entry_size + 2));
  *out = std::move(compiled);
  return Status::OK();
}

bool PythonRegex::Search(const std::string& subject,
                         std::map<std::string, std::string>* groups) const {
  if (!code_) return false;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_->re, nullptr);
  int rc = pcre2_match(code_->re, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0,
                       0, md, nullptr);
  if (rc >= 0 && groups != nullptr) {
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    uint32_t count = 0, entry_size = 0;
    PCRE2_SPTR table = nullptr;
    pcre2_pattern_info(code_->re, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(code_->re, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
    pcre2_pattern_info(code_->re, PCRE2_INFO_NAMETABLE, &table);
    for (uint32_t i = 0; i < count; ++i) {
      const unsigned char* entry = table + i * entry_size;
      int n = (entry[0] << 8) | entry[1];
      if (n >= rc || ov[2 * n] == PCRE2_UNSET) continue;
      (*groups)[reinterpret_cast<const char*>(entry + 2)] =
          subject.substr(ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
    }
  }
  pcre2_match_data_free(md);
  return rc >= 0;
}

}  // namespace verdi
