// Directory trees a job made, handled as their owner: no symlink is ever
// followed, a tree of any depth is walked with a bounded number of
// descriptors, and where the job took its owner's access away (`chmod 000`
// of a directory or a file, a read-only subdirectory; an immutable or
// append-only flag when verdi runs as root) it is given back on the way.
#pragma once

#include <filesystem>
#include <string>

#include "base/status.h"

namespace verdi {

/// Gives this process's user back read, write and search on the directory
/// open as `dirfd` and on every directory below it, and read and write on
/// every regular file below it: what verdi needs to read, append to, archive
/// and remove what a job left. Entries of another user, symlinks, and files
/// with more than one link (which may be another's too, such as a read-only
/// input of the cache) are left as they are. `shown` names the directory in
/// errors.
Status RestoreOwnerAccess(int dirfd, const std::string& shown);

/// The same for the directory `dir`. The path up to it is the caller's;
/// `dir` itself must be a directory, not a link to one (Failed).
Status RestoreOwnerAccess(const std::filesystem::path& dir);

/// Removes the entry `name` of the directory open as `dirfd`, whatever it
/// is: a file, a link (never followed) or a directory tree of any depth,
/// made removable on the way. A missing entry is no error. `shown` names
/// the entry in errors.
Status RemoveTreeAt(int dirfd, const std::string& name, const std::string& shown);

/// RemoveTreeAt for `path`: the path up to it is the caller's, `path`
/// itself is never followed.
Status RemoveTree(const std::filesystem::path& path);

}  // namespace verdi
