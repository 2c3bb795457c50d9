#include "localize/checksum.h"

#include <openssl/evp.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <system_error>

namespace verdi::localize {
namespace fs = std::filesystem;

namespace {

const EVP_MD* Algo(const std::string& algo) {
  if (algo == "md5") return EVP_md5();
  if (algo == "sha1") return EVP_sha1();
  if (algo == "sha224") return EVP_sha224();
  if (algo == "sha256") return EVP_sha256();
  if (algo == "sha384") return EVP_sha384();
  if (algo == "sha512") return EVP_sha512();
  // hashlib's names (HySDS), and OpenSSL's.
  if (algo == "sha3_224" || algo == "sha3-224") return EVP_sha3_224();
  if (algo == "sha3_256" || algo == "sha3-256") return EVP_sha3_256();
  if (algo == "sha3_384" || algo == "sha3-384") return EVP_sha3_384();
  if (algo == "sha3_512" || algo == "sha3-512") return EVP_sha3_512();
  if (algo == "blake2b" || algo == "blake2b512") return EVP_blake2b512();
  if (algo == "blake2s" || algo == "blake2s256") return EVP_blake2s256();
  if (algo == "shake_128" || algo == "shake128") return EVP_shake128();
  if (algo == "shake_256" || algo == "shake256") return EVP_shake256();
  return nullptr;
}

// HySDS's shake digests are 255 bytes long.
constexpr unsigned kShakeBytes = 255;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Checks one sidecar; appends to `bad` on a mismatch.
Status CheckOne(const fs::path& sidecar, std::vector<std::string>* bad) {
  std::string algo = sidecar.extension().string();
  if (algo.size() < 2) return Status::OK();
  algo = Lower(algo.substr(1));
  if (!Algo(algo)) return Status::OK();
  fs::path target = sidecar;
  target.replace_extension();
  std::error_code ec;
  if (!fs::is_regular_file(target, ec)) return Status::OK();  // missing sibling: skipped
  std::ifstream in(sidecar);
  if (!in) return Status::IOError(sidecar.string(), errno);
  std::string line;  // HySDS's pre-computed checksum: the first line without its newline
  std::getline(in, line);
  size_t b = line.find_first_not_of(" \t\r\n");
  std::string want = b == std::string::npos ? "" : line.substr(b);
  size_t e = want.find_first_of(" \t\r\n");
  if (e != std::string::npos) want.resize(e);
  std::string got;
  VERDI_RETURN_IF_ERROR(FileDigest(target, algo, &got));
  if (Lower(want) != got) {
    bad->push_back(target.string() + ": calculated checksum: " + got +
                   ", pre-computed checksum: " + line + "\n");
  }
  return Status::OK();
}

}  // namespace

Status FileDigest(const fs::path& file, const std::string& algo, std::string* hex) {
  const EVP_MD* md = Algo(algo);
  if (!md) return Status::Invalid("unsupported checksum algorithm: " + algo);
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!f) return Status::IOError(file.string(), errno);
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
    return Status::Failed("EVP_DigestInit failed");
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) EVP_DigestUpdate(ctx.get(), buf, n);
  if (std::ferror(f.get())) return Status::IOError(file.string(), EIO);
  unsigned char digest[kShakeBytes > EVP_MAX_MD_SIZE ? kShakeBytes : EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_MD_flags(md) & EVP_MD_FLAG_XOF) {
    len = kShakeBytes;
    EVP_DigestFinalXOF(ctx.get(), digest, len);
  } else {
    EVP_DigestFinal_ex(ctx.get(), digest, &len);
  }
  static const char* kHex = "0123456789abcdef";
  hex->clear();
  for (unsigned int i = 0; i < len; ++i) {
    *hex += kHex[digest[i] >> 4];
    *hex += kHex[digest[i] & 15];
  }
  return Status::OK();
}

Status ValidateChecksumFiles(const std::vector<fs::path>& paths) {
  std::vector<std::string> bad;
  for (const fs::path& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (const auto& entry : fs::directory_iterator(p, ec)) {
        VERDI_RETURN_IF_ERROR(CheckOne(entry.path(), &bad));
      }
      if (ec) return Status::IOError(p.string(), ec.value());
    } else {
      VERDI_RETURN_IF_ERROR(CheckOne(p, &bad));
    }
  }
  if (bad.empty()) return Status::OK();
  // HySDS's validate_checksum_files error, line for line.
  std::string msg = "Files with mismatched checksum:\n";
  for (const std::string& line : bad) msg += line;
  return Status::Failed(msg);
}

}  // namespace verdi::localize
