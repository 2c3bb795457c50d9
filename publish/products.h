// Recognising the products a job made (as HySDS's find_dataset_json does): a
// directory X holding X.dataset.json, anywhere under the job dir.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace verdi::publish {

struct Product {
  std::string id;              // the directory's name
  std::filesystem::path dir;   // as reached from the job dir (may pass symlinks)
  std::filesystem::path real;  // with every symlink resolved, inside the job dir
};

/// Every product under `job_dir`, sorted by path. Symlinks are followed as
/// long as they stay inside the job dir (each real directory is walked
/// once); directories holding `.localized` (inputs) are skipped with what
/// is under them; a `*.dataset.json` that is not `X/X.dataset.json` is
/// logged and ignored. A product whose name has `..`, or that resolves
/// outside the job dir, fails the call naming it.
Status FindProducts(const std::filesystem::path& job_dir,
                    const std::function<void(const std::string&)>& log, std::vector<Product>* out);

/// A file of a product: its path below the product dir, where it is, and
/// where it was when listed, every symlink resolved (inside the job dir).
struct ProductFile {
  std::string relpath;
  std::filesystem::path path;
  std::filesystem::path real;
};

/// The regular files of a product, sorted, following symlinks that stay
/// inside `job_dir` (each real directory once); a link that leads outside
/// or nowhere fails the call naming it. What is listed is read later
/// through `real` without following any link (job_files.h), so a link
/// swapped in after the listing is refused, not followed.
Status ListProductFiles(const std::filesystem::path& job_dir, const Product& product,
                        std::vector<ProductFile>* out);

}  // namespace verdi::publish
