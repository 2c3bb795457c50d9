// Celery's setting names: the new (lowercase) ones and the old ones Celery 5
// still reads, renamed exactly as Celery renames them.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace verdi {

/// The new name of one of Celery's old setting names (BROKER_URL ->
/// broker_url, CELERYD_PREFETCH_MULTIPLIER -> worker_prefetch_multiplier),
/// from Celery 5's own table (`_TO_NEW_KEY` of celery/app/defaults.py, every
/// pair); empty when `name` is not an old name.
std::string_view NewCelerySettingName(std::string_view name);

/// Whether `name` is one of Celery's (new) setting names.
bool IsCelerySettingName(std::string_view name);

/// How Celery reads the names a file sets (`detect_settings` of
/// celery/app/utils.py): the file is in the new format unless more of its
/// Celery names are old than new. In the old format, each old name is read
/// under its new name (`renamed`: old -> new) and a new name whose old one
/// is also set is not read; in the new format, an old name whose new one is
/// also set is not read (`unread`: name -> the name that wins). A file that
/// mixes the formats otherwise is refused, as by Celery: Invalid naming each
/// setting to rename.
Status DetectCelerySettings(const std::vector<std::string>& names,
                            std::map<std::string, std::string>* renamed,
                            std::map<std::string, std::string>* unread);

}  // namespace verdi
