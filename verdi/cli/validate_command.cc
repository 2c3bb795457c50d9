// `verdi validate FILE...`: every problem of job-specs, hysds-ios,
// datasets.json files, jobs and worker configs, one line each.

#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "jobspec/lint.h"
#include "verdi/cli/commands.h"

namespace verdi {
namespace {

constexpr int kErrorsExit = 1;  // at least one error
constexpr int kUsageExit = 2;   // bad usage: unknown kind, unreadable file

struct ValidateOptions {
  std::string kind;
  std::vector<std::string> files;
};

struct Input {
  std::string file, text;
  LintKind kind = LintKind::kJobSpec;
  Json doc;
  bool parsed = false;
};

int Usage(const std::string& message) {
  std::cerr << "verdi validate: " << message << "\n";
  return kUsageExit;
}

// The NAME of job-spec.json.NAME / hysds-io.json.NAME, or "".
std::string Suffix(const std::string& file, std::string_view prefix) {
  std::string base = file.substr(file.find_last_of('/') + 1);
  return base.starts_with(prefix) ? base.substr(prefix.size()) : "";
}

int RunValidate(const ValidateOptions& o) {
  std::optional<LintKind> forced;
  if (!o.kind.empty()) {
    forced = ParseLintKind(o.kind);
    if (!forced)
      return Usage(fmt::format(
          "--kind: got \"{}\" (expected job-spec, hysds-io, datasets, job or worker-config)",
          o.kind));
  }
  if (o.files.empty()) return Usage("no FILE given (expected one or more files to check)");

  // Every file is read and its kind known before anything is reported.
  std::vector<Input> inputs;
  for (const std::string& file : o.files) {
    Input in;
    in.file = file;
    std::ifstream stream(file, std::ios::binary);
    if (!stream) return Usage(Status::IOError(file, errno).message());
    std::ostringstream text;
    text << stream.rdbuf();
    in.text = text.str();
    std::optional<LintKind> kind = forced ? forced : GuessKindFromName(file);
    if (!kind) kind = GuessKindFromContent(Json::parse(in.text, nullptr, false));
    if (!kind)
      return Usage(fmt::format(
          "{}: cannot tell the kind from the name or the content (expected job-spec.json.*, "
          "hysds-io.json.*, datasets.json*, a job with job_id and type, a worker config with "
          "configs, or --kind)",
          file));
    in.kind = *kind;
    inputs.push_back(std::move(in));
  }

  std::vector<Finding> findings;
  for (Input& in : inputs) {
    in.parsed = ParseForLint(in.text, in.file, LintKindName(in.kind), &in.doc, &findings);
    if (in.parsed) Lint(in.kind, in.doc, in.file, &findings);
  }

  // A job-spec and its hysds-io: same NAME, or the only one of each.
  std::vector<const Input*> specs, ios;
  for (const Input& in : inputs) {
    if (!in.parsed || !in.doc.is_object()) continue;
    if (in.kind == LintKind::kJobSpec) specs.push_back(&in);
    if (in.kind == LintKind::kHysdsIo) ios.push_back(&in);
  }
  for (const Input* io : ios) {
    const Input* match = nullptr;
    std::string name = Suffix(io->file, "hysds-io.json.");
    for (const Input* spec : specs)
      if (!name.empty() && Suffix(spec->file, "job-spec.json.") == name) match = spec;
    if (match == nullptr && specs.size() == 1 && ios.size() == 1) match = specs[0];
    if (match != nullptr) LintSpecAgainstIo(match->doc, match->file, io->doc, io->file, &findings);
  }

  int errors = 0, warnings = 0;
  for (const Finding& f : findings) {
    std::cout << f.Line() << "\n";
    (f.severity == Finding::kError ? errors : warnings)++;
  }
  std::cout.flush();
  auto plural = [](int n, std::string_view word) {
    return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
  };
  std::cerr << fmt::format("{}, {} in {}\n", plural(errors, "error"), plural(warnings, "warning"),
                           plural(static_cast<int>(inputs.size()), "file"));
  return errors > 0 ? kErrorsExit : 0;
}

}  // namespace

void AddValidateCommand(CLI::App* app, int* exit_code) {
  auto o = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app->add_subcommand(
      "validate",
      "Check job-specs, hysds-ios, datasets.json files, run_job jobs and worker configs, and\n"
      "report every problem, one line each on stdout:\n"
      "  error: FILE: JSON.path: what is wrong (what was expected)\n"
      "  warning: FILE: JSON.path: what is wrong (what was expected)\n"
      "then `N errors, M warnings in K files` on stderr. The kind comes from --kind, else the\n"
      "file name (job-spec.json.*, hysds-io.json.*, datasets.json*), else the content (job_id\n"
      "and type: a job; configs: a worker config). A job-spec and a hysds-io given together\n"
      "(same NAME, or the only one of each) must have the same params.\n"
      "Errors: wrong types, missing keys, unknown destination or from, a disk size or regex\n"
      "that does not parse, a template field that can never exist, params of one file missing\n"
      "in the other. Warnings: unknown keys, repeated keys, lambdas (verdi does not run them),\n"
      "a time_limit with no room after the soft limit.\n"
      "Exit code: 0 no errors (warnings allowed); 1 errors; 2 bad usage (unknown kind,\n"
      "unreadable file).");
  cmd->add_option("--kind", o->kind,
                  "job-spec, hysds-io, datasets, job or worker-config (all FILEs)");
  cmd->add_option("FILE", o->files, "The files to check");
  cmd->callback([o, exit_code] { *exit_code = RunValidate(*o); });
}

}  // namespace verdi
