// From a job-spec, an optional hysds-io and the caller's params to the
// `run_job` job that HySDS's resolver (hysds_commons `resolve_hysds_job`)
// and orchestrator (`submit_job` with the default job creator) would queue,
// params routed to the command line, localize_urls and the context as they
// route them. Pure: the clock and the task id come in.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/timestamp.h"
#include "jobspec/hysds_io.h"
#include "jobspec/json_field.h"

namespace verdi {

/// What the caller asks for (the flags of `verdi submit`).
struct SubmitRequest {
  /// Names of the inputs, used in messages.
  std::string spec_file;    // the job-spec
  std::string io_file;      // the hysds-io, when one is given
  std::string params_file;  // the --params file ("stdin" for -)

  /// --params: the param values, which keep their JSON types.
  Json params = Json::object();
  /// --param NAME=VALUE in order (a later one wins); string values, which
  /// win over `params`.
  std::vector<std::pair<std::string, std::string>> param_strings;

  /// Resolve as a trigger rule or a Tosca/Figaro submission does
  /// (hysds_commons submit_mozart_job) instead of as Mozart's REST
  /// submission (resolve_hysds_job). See ResolveJob.
  bool as_rule = false;
  /// With as_rule: the dataset document (a GRQ search hit, `{"_id",
  /// "_source"}`) that `dataset_jpath:` params are taken from; a list of
  /// them aggregates (each such param becomes the list of its values).
  std::optional<Json> dataset;
  std::string dataset_file;  // its name, for messages
  /// With as_rule: runs a param's `lambda` on its value, as HySDS's
  /// run_lambda (`verdi submit` runs it with python3). Null: not run, the
  /// value is used as it is (one note per param).
  std::function<Status(const HysdsIoParam& wire, const Json& value, Json* out)> run_lambda;

  /// The job-spec id "job-NAME:VERSION" (a leading "job:" is dropped).
  std::string type;
  /// Base of the job id; empty: the type. ':' becomes "__" as in HySDS.
  std::string name;
  /// Empty: the job-spec's first recommended queue, else "celery".
  std::string queue;
  int64_t priority = 0;
  std::optional<std::string> tag, username;
  /// A size such as "10GB"; absent: the job-spec's disk_usage.
  std::optional<std::string> disk_usage;
  /// Absent: the job-spec's.
  std::optional<int64_t> soft_time_limit, time_limit;
  /// HARD_TIME_LIMIT_GAP: the hard limit is at least soft + gap.
  int64_t hard_time_limit_gap = 300;
  /// Absent: the hysds-io's enable_dedup, else true.
  std::optional<bool> dedup;
  /// The job's image; absent: the job runs on the host.
  std::optional<std::string> container_image_name, container_image_url;
  /// The Celery task id the job is published with (required).
  std::string task_id;
};

/// Builds the `run_job` job into `*job`. The job-spec document is parsed
/// here (errors start with spec_file); `io` may be null.
///
/// Params are taken in job-spec order. As Mozart's REST submission: the
/// caller's value as given (no conversion); else the hysds-io's fixed
/// `value`; else its `default`; else an optional param is skipped; else the
/// submission fails naming the param. Fixed values and defaults are
/// converted by type as HySDS's run_type_conversion (number: a float;
/// boolean: "true"/"false" in any case; region: JSON text parsed; an
/// optional param with blank text: ""; anything else, objects included, as
/// it is). Lambdas are not run; `notes` gets one line per param that has
/// one.
///
/// With `as_rule`, a param the hysds-io has gets what hysds_commons'
/// get_inputs gives it: the fixed `value` if any; else by its `from`: the
/// caller's value (submitter, passthrough), the value at its path in
/// `dataset` (dataset_jpath, when a dataset is given), else its `default`
/// (not for passthrough); nothing: "" when optional, else the submission
/// fails ("Failed to find 'NAME' input from 'FROM'"). That value, the
/// caller's included, is converted by type, then its lambda runs.
///
/// `notes` also gets one line per caller param the job-spec does not know
/// (ignored, as HySDS does) and per param whose name is a reserved payload
/// key (not stored).
///
/// Invalid errors read "<file>: <JSON path>: param 'NAME': <problem>" (or
/// start with the flag, e.g. "--disk-usage: ..."). The job built always
/// passes ParseJob.
Status ResolveJob(const Json& spec_doc, const HysdsIo* io, const SubmitRequest& request,
                  WallClock::time_point now, Json* job, std::vector<std::string>* notes);

/// HySDS's payload hash (UT `get_payload_hash`): the MD5, in hex, of
/// Python's json.dumps(payload, sort_keys=True) (", " and ": " separators,
/// non-ASCII escaped) after dropping `_disk_usage`, `_sciflo_job_num` and
/// `_sciflo_wuid` from the top level.
std::string PayloadHash(const Json& payload);

/// The default job type for a job-spec file: "job-NAME:latest" for a file
/// named job-spec.json.NAME (in any folder); empty for any other name.
std::string DefaultJobType(std::string_view spec_path);

}  // namespace verdi
