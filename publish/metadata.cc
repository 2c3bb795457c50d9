#include "publish/metadata.h"

#include <fstream>

#include <fmt/format.h>

#include "base/env_vars.h"
#include "jobspec/shell_words.h"

namespace verdi::publish {
namespace fs = std::filesystem;

namespace {

std::string Tail(const std::string& text, size_t n = 300) {
  std::string t = text.size() > n ? "..." + text.substr(text.size() - n) : text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

}  // namespace

Status LoadMetadata(const Product& product, const DatasetRule& rule, const ProcessRunner& run,
                    std::chrono::seconds timeout, Json* met) {
  fs::path met_file = product.dir / (product.id + ".met.json");
  std::error_code ec;
  if (fs::exists(met_file, ec)) {
    VERDI_RETURN_IF_ERROR(ReadJsonFile(met_file.string(), met));
    if (!met->is_object())
      return Status::Invalid(fmt::format("{}: expected a JSON object", met_file.string()));
    return Status::OK();
  }
  if (!rule.extractor) {
    *met = Json::object();
    return Status::OK();
  }
  std::string command = ExpandEnvVars(*rule.extractor);
  if (command.starts_with("script:")) command = command.substr(7);
  std::string what =
      fmt::format("product {}: extractor `{}` of {}", product.id, command, rule.where);
  std::vector<std::string> argv;
  VERDI_RETURN_IF_ERROR(SplitShellWords(command, rule.where + ".extractor", &argv));
  if (argv.empty()) return Status::Invalid(rule.where + ".extractor: is empty");
  argv.push_back(product.dir.string());
  ProcessOutput output;
  VERDI_RETURN_IF_ERROR(run(argv, timeout, &output).WithPrefix(what));
  if (output.timed_out)
    return Status::Failed(
        fmt::format("{}: killed after {} s; stderr: {}", what, timeout.count(), Tail(output.err)));
  if (output.exit_code != 0)
    return Status::Failed(
        fmt::format("{}: exit code {}; stderr: {}", what, output.exit_code, Tail(output.err)));
  Json doc = Json::parse(output.out, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return Status::Failed(
        fmt::format("{}: its output is not a JSON object: {}", what, Tail(output.out, 200)));
  doc["data_product_name"] = product.id;
  fs::path seed = product.dir / "met.json";
  if (fs::exists(seed, ec)) {
    Json extra;
    VERDI_RETURN_IF_ERROR(ReadJsonFile(seed.string(), &extra));
    if (extra.is_object()) doc.update(extra);
    fs::remove(seed, ec);
  }
  VERDI_RETURN_IF_ERROR(WriteJsonFile(met_file.string(), doc));
  *met = std::move(doc);
  return Status::OK();
}

}  // namespace verdi::publish
