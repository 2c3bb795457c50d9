#include "jobspec/dataset_jpath.h"

#include <cctype>
#include <cstdint>

#include <fmt/format.h>

namespace verdi {
namespace {

// Python's int() of a str: surrounding blanks, an optional sign, decimal
// digits with single '_' between them. False when Python raises.
bool PythonInt(std::string_view text, int64_t* out) {
  auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.front() == '_' || text.back() == '_') return false;
  int64_t value = 0;
  char previous = 0;
  for (char c : text) {
    if (c == '_') {
      if (previous == '_') return false;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      if (value > (INT64_MAX - 9) / 10) return false;  // beyond any list
      value = value * 10 + (c - '0');
    } else {
      return false;
    }
    previous = c;
  }
  *out = negative ? -value : value;
  return true;
}

std::string Kind(const Json& value) {
  if (value.is_array()) return "a list";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "a boolean";
  return "a number";
}

}  // namespace

std::string_view DatasetJpath(std::string_view from) {
  size_t first = from.find(':');
  if (first == std::string_view::npos) return {};
  std::string_view rest = from.substr(first + 1);
  return rest.substr(0, rest.find(':'));
}

Status ResolveDatasetJpath(const Json& dataset, std::string_view path, std::optional<Json>* out) {
  std::string cleaned(path);
  for (size_t at = cleaned.find("xpath."); at != std::string::npos; at = cleaned.find("xpath.", at))
    cleaned.erase(at, 6);

  const Json* at = &dataset;
  Json held;  // a character taken out of a string
  std::string_view rest = cleaned;
  while (true) {
    size_t dot = rest.find('.');
    std::string_view part = rest.substr(0, dot);
    if (at->is_null() || part.empty()) break;
    int64_t index = 0;
    if (PythonInt(part, &index)) {
      if (at->is_object()) {  // JSON keys are text: an integer finds nothing
        out->reset();
        return Status::OK();
      }
      if (at->is_array() || at->is_string()) {
        int64_t size = at->is_array()
                           ? static_cast<int64_t>(at->size())
                           : static_cast<int64_t>(at->get_ref<const std::string&>().size());
        if (size <= index) {
          out->reset();
          return Status::OK();
        }
        if (index < -size)
          return Status::Invalid(
              fmt::format("`{}`: index out of range of {} of {}", part, Kind(*at), size));
        int64_t i = index < 0 ? size + index : index;
        if (at->is_string()) {
          std::string character =
              at->get_ref<const std::string&>().substr(static_cast<size_t>(i), 1);
          held = std::move(character);
          at = &held;
        } else {
          at = &(*at)[static_cast<size_t>(i)];
        }
      } else {
        return Status::Invalid(fmt::format("`{}`: cannot index {}", part, Kind(*at)));
      }
    } else {
      if (!at->is_object())
        return Status::Invalid(fmt::format("`{}`: cannot take a key of {}", part, Kind(*at)));
      auto found = at->find(std::string(part));
      if (found == at->end()) {
        out->reset();
        return Status::OK();
      }
      at = &*found;
    }
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (at->is_null())
    out->reset();
  else
    *out = *at;
  return Status::OK();
}

}  // namespace verdi
