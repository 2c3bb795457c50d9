// A .tar.gz of a directory, written with zlib: POSIX ustar entries, with pax
// extended headers for long names and large sizes, as GNU tar and Python's
// tarfile read them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "base/status.h"

namespace verdi {

/// Writes `dir` and everything under it to the gzip-compressed tar `out`,
/// each entry named `arcname/<path relative to dir>`. Directories, regular
/// files and symlinks (stored as links, never followed) are archived with
/// their mode, owner ids and mtime; other kinds (FIFOs, sockets, devices)
/// are skipped and counted in *skipped (may be null). Files are streamed:
/// memory use does not grow with their size. A file that shrinks while it is
/// read is padded with zeros to the size recorded in its header.
Status WriteTarGz(const std::filesystem::path& dir, const std::string& arcname,
                  const std::filesystem::path& out, int* skipped = nullptr);

}  // namespace verdi
