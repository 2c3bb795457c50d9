// Checksum sidecars: `<file>.<algo>` holds the digest of `<file>`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"

namespace verdi::localize {

/// The hex digest of `file` with `algo`: md5, sha1, sha224, sha256, sha384,
/// sha512, sha3_224 … sha3_512 (or sha3-256 …), blake2b (blake2b512),
/// blake2s (blake2s256), shake_128, shake_256 (255-byte digests, as HySDS).
Status FileDigest(const std::filesystem::path& file, const std::string& algo, std::string* hex);

/// For each path: when it (or, for a directory, each direct child) ends in
/// `.<algo>` and the sibling without the suffix exists, compares the
/// sidecar's first line (case-insensitively, surrounding blanks ignored,
/// first word only, as in `md5sum` output) with the sibling's digest. Any
/// mismatch is Status::Failed with HySDS's text: "Files with mismatched
/// checksum:\n" and a line "<file>: calculated checksum: <hex>, pre-computed
/// checksum: <the sidecar's first line>" for each bad file.
Status ValidateChecksumFiles(const std::vector<std::filesystem::path>& paths);

}  // namespace verdi::localize
