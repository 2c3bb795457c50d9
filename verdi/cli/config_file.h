// Settings files as Celery and HySDS users already have them: a
// celeryconfig.py of plain assignments (`broker_url = "amqp://..."`), or the
// same keys in a JSON object.
#pragma once

#include <map>
#include <string>

#include "jobspec/json_field.h"

namespace verdi {

/// Reads `path`. A file whose first non-blank character is '{' is JSON;
/// anything else is read as Python: each top-level `NAME = literal` line
/// (string, number, True, False, None) gives a setting; multi-line values
/// (dicts, lists), imports, comments and other statements are passed over,
/// and so are assignments whose value is not a literal — unless NAME is one
/// of `required`, which then is an error naming the file, line and key.
Status ReadConfigFile(const std::string& path, const std::vector<std::string>& required,
                      std::map<std::string, Json>* settings);

/// The same, from text; `where` names it in errors.
Status ParseConfigText(const std::string& text, const std::string& where,
                       const std::vector<std::string>& required,
                       std::map<std::string, Json>* settings);

}  // namespace verdi
