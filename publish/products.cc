#include "publish/products.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "base/files.h"

namespace verdi::publish {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSuffix = ".dataset.json";

bool Inside(const fs::path& root, const fs::path& p) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q)
    if (q == p.end() || *q != *r) return false;
  return true;
}

// Names from a job's file system go into JSON documents: they must be
// valid UTF-8 (nlohmann refuses to dump anything else).
bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (size_t k = 1; k < n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    // Overlong forms, surrogates, beyond U+10FFFF.
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
      return false;
    i += n;
  }
  return true;
}

// `path` for a message, with bytes that are not printable ASCII as \xNN.
std::string Escaped(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if (c < 0x20 || c >= 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  return out;
}

struct Walk {
  fs::path root;  // canonical job dir
  const std::function<void(const std::string&)>& log;
  std::vector<Product>* out;
  std::set<fs::path> seen;  // real directories walked already (symlink loops)

  Status Dir(const fs::path& dir, const fs::path& real) {
    if (!seen.insert(real).second) return Status::OK();
    std::error_code ec;
    if (fs::exists(real / ".localized", ec)) return Status::OK();  // an input
    std::vector<fs::directory_entry> entries;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
      entries.push_back(*it);
    if (ec) return Status::IOError("listing " + dir.string(), ec.value());
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) {
      std::string name = e.path().filename().string();
      std::error_code ec2;
      if (e.is_directory(ec2)) {
        fs::path target = CanonicalPath(e.path(), ec2);
        if (ec2) continue;
        if (!Inside(root, target)) {
          // Only a product may not point outside; other links are not ours to walk.
          if (fs::exists(e.path() / (name + std::string(kSuffix)), ec2))
            return Status::Failed(
                fmt::format("product {} resolves to {}, outside the job dir: refused",
                            e.path().string(), target.string()));
          continue;
        }
        VERDI_RETURN_IF_ERROR(Dir(e.path(), target));
        continue;
      }
      if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) continue;
      std::string id = name.substr(0, name.size() - kSuffix.size());
      if (id != dir.filename().string()) {
        if (log)
          log(fmt::format("{} is not in a directory named {}: not a product, ignored",
                          e.path().string(), id));
        continue;
      }
      if (dir == root) continue;  // the job dir itself is no product
      out->push_back({id, dir, real});
    }
    return Status::OK();
  }
};

}  // namespace

Status FindProducts(const fs::path& job_dir, const std::function<void(const std::string&)>& log,
                    std::vector<Product>* out) {
  out->clear();
  std::error_code ec;
  fs::path root = CanonicalPath(job_dir, ec);
  if (ec) return Status::IOError("resolving " + job_dir.string(), ec.value());
  Walk walk{root, log, out, {}};
  VERDI_RETURN_IF_ERROR(walk.Dir(job_dir, root));
  for (const Product& p : *out) {
    if (p.id == ".." || p.id == "." || p.id.find("..") != std::string::npos)
      return Status::Failed(
          fmt::format("product name \"{}\" ({}) has `..`: refused", p.id, p.dir.string()));
    if (!ValidUtf8(p.dir.string()))
      return Status::Failed(
          fmt::format("product {}: its path is not valid UTF-8: refused", Escaped(p.dir.string())));
  }
  std::sort(out->begin(), out->end(),
            [](const Product& a, const Product& b) { return a.dir < b.dir; });
  return Status::OK();
}

namespace {

Status ListFiles(const fs::path& root, const Product& product, const fs::path& dir,
                 const std::string& prefix, std::set<fs::path>* seen,
                 std::vector<ProductFile>* out) {
  std::error_code ec;
  std::vector<fs::path> entries;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    entries.push_back(it->path());
  if (ec) return Status::IOError("listing " + dir.string(), ec.value());
  std::sort(entries.begin(), entries.end());
  for (const fs::path& p : entries) {
    std::string rel = prefix + p.filename().string();
    if (!ValidUtf8(rel))
      return Status::Failed(fmt::format("product {}: the file name {} is not valid UTF-8: refused",
                                        product.id, Escaped(p.string())));
    fs::path target = CanonicalPath(p, ec);
    if (ec)
      return Status::Failed(
          fmt::format("product {}: {} is a broken link: refused", product.id, p.string()));
    if (!Inside(root, target))
      return Status::Failed(
          fmt::format("product {}: {} resolves to {}, outside the job dir: refused", product.id,
                      p.string(), target.string()));
    if (fs::is_directory(target, ec)) {
      if (!seen->insert(target).second) continue;
      VERDI_RETURN_IF_ERROR(ListFiles(root, product, p, rel + "/", seen, out));
    } else if (fs::is_regular_file(target, ec)) {
      out->push_back({rel, p, target});
    }
  }
  return Status::OK();
}

}  // namespace

Status ListProductFiles(const fs::path& job_dir, const Product& product,
                        std::vector<ProductFile>* out) {
  out->clear();
  std::error_code ec;
  fs::path root = CanonicalPath(job_dir, ec);
  if (ec) return Status::IOError("resolving " + job_dir.string(), ec.value());
  std::set<fs::path> seen = {CanonicalPath(product.dir, ec)};
  return ListFiles(root, product, product.dir, "", &seen, out);
}

}  // namespace verdi::publish
