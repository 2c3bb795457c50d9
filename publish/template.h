// datasets.json templates: Python str.format fields, as HySDS fills them.
//   {name}              a named group, version, level, type, hostname, ...
//   {dataset[key]}      a field of <id>.dataset.json (keys may chain: [a][b])
//   {met[key]}          a field of the product's metadata
//   {{ and }}           literal braces
//   ${name}             read as {name} (HySDS's sample config writes it so;
//                       under str.format it leaves a stray '$')
#pragma once

#include <map>
#include <string>

#include "base/status.h"
#include "jobspec/json_field.h"

namespace verdi::publish {

struct TemplateFields {
  std::map<std::string, std::string> names;  // groups, version, level, type, hostname
  /// What {name[key]...} reads: "dataset" and "met" for datasets.json.
  std::map<std::string, Json> objects;
};

/// Fills `text`. A field that names nothing known, a positional field or a
/// format spec fails with Invalid naming the field (the caller adds where
/// the template came from).
Status FillTemplate(const std::string& text, const TemplateFields& fields, std::string* out);

/// FillTemplate for a destination (a publish or browse location, a URL):
/// the values come from the job's files, so none may move the destination
/// out of the directory that the template's fixed part names. A value that
/// holds a NUL, `/..` or `\..`, or starts with `..` (also once
/// percent-decoded), a `?` or `#` in a network URL, or a filled
/// destination that resolves to that directory or above it, fails with
/// Invalid naming the field and its value.
Status FillDestinationTemplate(const std::string& text, const TemplateFields& fields,
                               std::string* out);

}  // namespace verdi::publish
