#include "localize/xml_text.h"

#include <cstdlib>

namespace verdi::localize {

std::vector<std::string> XmlElements(const std::string& xml, const std::string& tag, size_t from,
                                     size_t to) {
  std::vector<std::string> out;
  std::string open = "<" + tag + ">", close = "</" + tag + ">";
  if (to == std::string::npos) to = xml.size();
  for (size_t pos = xml.find(open, from); pos != std::string::npos && pos < to;
       pos = xml.find(open, pos)) {
    size_t start = pos + open.size();
    size_t end = xml.find(close, start);
    if (end == std::string::npos || end > to) break;
    out.push_back(xml.substr(start, end - start));
    pos = end + close.size();
  }
  return out;
}

std::string DecodeXmlEntities(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    size_t semi = s[i] == '&' ? s.find(';', i) : std::string::npos;
    if (semi == std::string::npos || semi - i > 8) {
      out += s[i];
      continue;
    }
    std::string name = s.substr(i + 1, semi - i - 1);
    char c = 0;
    if (name == "amp")
      c = '&';
    else if (name == "lt")
      c = '<';
    else if (name == "gt")
      c = '>';
    else if (name == "quot")
      c = '"';
    else if (name == "apos")
      c = '\'';
    else if (name.size() > 1 && name[0] == '#') {
      long v = name[1] == 'x' ? std::strtol(name.c_str() + 2, nullptr, 16)
                              : std::strtol(name.c_str() + 1, nullptr, 10);
      if (v > 0 && v < 128) c = static_cast<char>(v);
    }
    if (c == 0) {
      out += s[i];
      continue;
    }
    out += c;
    i = semi;
  }
  return out;
}

}  // namespace verdi::localize
