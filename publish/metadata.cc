#include "publish/metadata.h"

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

Status LoadMetadata(const JobDir& dir, const Product& product, const DatasetRule& rule,
                    const ProcessRunner& run, std::chrono::seconds timeout, Json* met) {
  fs::path met_file = product.real / (product.id + ".met.json");
  Status read = dir.ReadJson(met_file, met);
  if (read.ok()) {
    if (!met->is_object())
      return Status::Invalid(fmt::format("{}: expected a JSON object", met_file.string()));
    return Status::OK();
  }
  if (!read.IsNotFound()) return read.WithPrefix("product " + product.id);
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
  Json doc;
  Status parsed = ParseJsonText(output.out, "its output", &doc);
  if (!parsed.ok() || !doc.is_object())
    return Status::Failed(
        fmt::format("{}: its output is not a JSON object: {}", what, Tail(output.out, 200)));
  doc["data_product_name"] = product.id;
  fs::path seed = product.real / "met.json";
  Json extra;
  Status seed_read = dir.ReadJson(seed, &extra);
  if (seed_read.ok()) {
    if (extra.is_object()) doc.update(extra);
    VERDI_RETURN_IF_ERROR(dir.RemoveFile(seed).WithPrefix("product " + product.id));
  } else if (!seed_read.IsNotFound()) {
    return seed_read.WithPrefix("product " + product.id);
  }
  VERDI_RETURN_IF_ERROR(
      dir.WriteFile(met_file, DumpJsonFile(doc)).WithPrefix("product " + product.id));
  *met = std::move(doc);
  return Status::OK();
}

}  // namespace verdi::publish
