// A minimal, bounded reader of the XML that object stores answer with
// (listings, errors): the text of named elements, and its entities.
#pragma once

#include <string>
#include <vector>

namespace verdi::localize {

/// The text of each <tag>...</tag> in `xml` between offsets `from` and
/// `to` (elements without attributes; nesting of the same tag is not
/// followed).
std::vector<std::string> XmlElements(const std::string& xml, const std::string& tag,
                                     size_t from = 0, size_t to = std::string::npos);

/// &amp; &lt; &gt; &quot; &apos; &#N; &#xN; decoded (ASCII only; others
/// kept as written).
std::string DecodeXmlEntities(const std::string& s);

}  // namespace verdi::localize
