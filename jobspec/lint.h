// `verdi validate`: every problem of a job-spec, hysds-io, datasets.json, job
// or worker config, not just the first. Pure: no files, no processes.
//
// Paths name the document by its kind, as the parsers do: "job-spec.params[0]
// .destination", "hysds-io.params[2].from", "datasets.datasets[0].ipath",
// "job.params._disk_usage", "worker-config.configs[1].command.path".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobspec/json_field.h"

namespace verdi {

struct Finding {
  enum Severity { kError, kWarning };
  Severity severity = kError;
  std::string file, path, message;

  /// "error: FILE: PATH: message" or "warning: FILE: PATH: message".
  std::string Line() const;
};

enum class LintKind { kJobSpec, kHysdsIo, kDatasets, kJob, kWorkerConfig };

/// "job-spec", "hysds-io", "datasets", "job", "worker-config".
std::string_view LintKindName(LintKind kind);
std::optional<LintKind> ParseLintKind(std::string_view name);
/// The kind told by a file name: job-spec.json.* , hysds-io.json.*,
/// datasets.json*; nullopt for any other name.
std::optional<LintKind> GuessKindFromName(std::string_view path);
/// The kind told by the content: an object with job_id and type is a job,
/// one with configs a worker config.
std::optional<LintKind> GuessKindFromContent(const Json& doc);

/// Parses `text` (the content of `file`) into `doc`. A syntax error is one
/// error finding (returns false); keys repeated in one object are warnings.
/// `root` names the document in paths ("job-spec").
bool ParseForLint(std::string_view text, const std::string& file, std::string_view root, Json* doc,
                  std::vector<Finding>* out);

/// The linters: each appends every problem of `doc` to `out`.
void LintJobSpec(const Json& doc, const std::string& file, std::vector<Finding>* out);
void LintHysdsIo(const Json& doc, const std::string& file, std::vector<Finding>* out);
void LintDatasets(const Json& doc, const std::string& file, std::vector<Finding>* out);
void LintJob(const Json& doc, const std::string& file, std::vector<Finding>* out);
void LintWorkerConfig(const Json& doc, const std::string& file, std::vector<Finding>* out);
void Lint(LintKind kind, const Json& doc, const std::string& file, std::vector<Finding>* out);

/// A job-spec and its hysds-io together: every param of one must be in the
/// other (errors in the file that has the extra param).
void LintSpecAgainstIo(const Json& spec, const std::string& spec_file, const Json& io,
                       const std::string& io_file, std::vector<Finding>* out);

/// The known key nearest to `key` (Levenshtein distance 3 or less, a prefix,
/// or the same with '_' and '-' swapped), or "" when none is near.
std::string NearestKey(std::string_view key, const std::vector<std::string_view>& known);

}  // namespace verdi
