// The hysds-io (hysds-io.json.<name>, HySDS's schema): how the params of a
// job-spec get their values when a job is submitted.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobspec/json_field.h"

namespace verdi {

struct HysdsIoParam {
  std::string name;
  /// "value", "submitter", "passthrough", "dataset_jpath:<dotted.path>"
  /// (an empty path: the whole dataset), or other text HySDS's schema lets
  /// through (FromForm::kDefaultOnly).
  std::string from;
  /// The fixed value (from = "value"); any JSON, null included.
  std::optional<Json> value;
  /// One of HySDS's param types; "text" when the file says none.
  std::string type = "text";
  /// The default (null counts as none); any JSON, usually text.
  std::optional<Json> default_value;
  bool optional = false;
  /// "lambda x: ..."; verdi never runs it.
  std::optional<std::string> lambda;
  /// Where the param is in the document ("hysds-io.params[2]").
  std::string path;
};

struct HysdsIo {
  std::string label;
  std::string component = "tosca";            // or "figaro"
  std::string submission_type = "iteration";  // or "individual"
  bool enable_dedup = true;
  std::vector<std::string> allowed_accounts;
  std::vector<HysdsIoParam> params;

  /// The first param called `name` (HySDS's resolver keeps the first one),
  /// or nullptr.
  const HysdsIoParam* Find(std::string_view name) const;
};

/// What HySDS makes of a param's `from`.
enum class FromForm {
  /// A source its resolver acts on: "value", "submitter", "passthrough", or
  /// "dataset_jpath:" and a path, empty included (the whole dataset).
  kKnown,
  /// Other text that HySDS's schema accepts (its pattern, searched, finds
  /// one of those words in it): the resolver gives the param its `value` or
  /// its `default` only.
  kDefaultOnly,
  /// Text the schema refuses.
  kRefused,
};
FromForm ClassifyFrom(std::string_view from);

/// The `from` forms, for messages.
inline constexpr std::string_view kFromForms =
    "\"value\", \"submitter\", \"passthrough\" or \"dataset_jpath:<path>\", the path possibly "
    "empty";

/// Validates and reads a hysds-io document. Required: an object with
/// `params`, a list of objects each with a string `name` and a `from` that
/// ClassifyFrom does not refuse; `value`
/// is required when from is "value", `enumerables` (strings) when type is
/// "enum", `version_regex` when type is one of the *_version types. `type`
/// must be a known type; `optional` may be a boolean or the text
/// "true"/"false" (the HCS schema says string, real files write booleans);
/// `lambda` must be text starting with "lambda". Top-level `component`,
/// `submission_type`, `enable_dedup`, `label` and `allowed_accounts` are
/// checked when present. Unknown keys are kept out but are not errors.
Status ParseHysdsIo(const JsonField& field, HysdsIo* io);

}  // namespace verdi
