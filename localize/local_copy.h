// file:// inputs, copied (or only checked) through descriptors: each source
// is opened first, links followed, and its real path read back from
// /proc/self/fd, so that the path a check sees is the file that is read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "base/status.h"
#include "localize/url.h"

namespace verdi::localize {

/// Called with the real path of a file:// source, and of every file and
/// directory under a source directory, once it is open and before a byte
/// of it is read; an error refuses the input, its message saying why.
using LocalSourceCheck = std::function<Status(const std::string& real_path)>;

/// Copies the file or directory that the file:// `url` names to `dest`
/// (which must not exist; its parent must): links are followed, directories
/// copied recursively, permissions kept (directories made writable by
/// their owner). A link loop, a FIFO, a socket or a device fails; so does
/// whatever `check` refuses (when given). `*bytes`: the bytes copied.
Status CopyLocalSource(const Url& url, const std::filesystem::path& dest,
                       const LocalSourceCheck& check, uint64_t* bytes);

/// The same walk with nothing copied: OK when CopyLocalSource would not
/// refuse the source now.
Status CheckLocalSource(const Url& url, const LocalSourceCheck& check);

}  // namespace verdi::localize
