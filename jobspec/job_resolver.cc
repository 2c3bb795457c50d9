#include "jobspec/job_resolver.h"

#include <openssl/evp.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include <fmt/format.h>

#include "jobspec/dataset_jpath.h"
#include "jobspec/disk_usage.h"
#include "jobspec/job.h"
#include "jobspec/job_id.h"
#include "jobspec/job_spec.h"

namespace verdi {
namespace {

// Keys of the payload that a param never overwrites (HySDS merges the
// context "without overwrite" after setting these).
const std::set<std::string, std::less<>> kReservedKeys = {
    "_command", "localize_urls", "_disk_usage", "job_specification", "container_specification"};

// --- Python's json.dumps (default separators, ensure_ascii) ----------------

// float.__repr__: the shortest digits that read back the same (ties to
// even, as Python's dtoa; nlohmann's Grisu2 may pick other digits), fixed
// notation when the decimal point falls in -4 < decpt <= 16, else d.ddde+XX.
std::string PyFloat(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string s(buf, ec == std::errc() ? end : buf);
  size_t e = s.find('e');
  if (e == std::string::npos) return Json(d).dump();  // not finite: cannot be in JSON
  std::string sign = s[0] == '-' ? "-" : "", digits;
  for (size_t i = sign.size(); i < e; ++i)
    if (s[i] != '.') digits += s[i];
  int exponent = std::atoi(s.c_str() + e + 1);
  int decpt = exponent + 1;  // digits d1 d2 ... mean 0.d1d2... x 10^decpt
  int n = static_cast<int>(digits.size());
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) return sign + "0." + std::string(-decpt, '0') + digits;
    if (decpt >= n) return sign + digits + std::string(decpt - n, '0') + ".0";
    return sign + digits.substr(0, decpt) + "." + digits.substr(decpt);
  }
  std::string mantissa = n == 1 ? digits : digits.substr(0, 1) + "." + digits.substr(1);
  return fmt::format("{}{}e{}{:02}", sign, mantissa, exponent < 0 ? '-' : '+', std::abs(exponent));
}

void DumpLikePython(const Json& value, std::string* out) {
  auto text = [](const std::string& s) {
    return Json(s).dump(-1, ' ', /*ensure_ascii=*/true, Json::error_handler_t::replace);
  };
  switch (value.type()) {
    case Json::value_t::string:
      *out += text(value.get_ref<const std::string&>());
      return;
    case Json::value_t::number_float:
      *out += PyFloat(value.get<double>());
      return;
    case Json::value_t::array: {
      *out += '[';
      for (size_t i = 0; i < value.size(); ++i) {
        if (i > 0) *out += ", ";
        DumpLikePython(value[i], out);
      }
      *out += ']';
      return;
    }
    case Json::value_t::object: {
      *out += '{';
      bool first = true;
      for (const auto& [key, item] : value.items()) {  // sorted: Json is a std::map
        if (!first) *out += ", ";
        first = false;
        *out += text(key) + ": ";
        DumpLikePython(item, out);
      }
      *out += '}';
      return;
    }
    default:
      *out += value.dump();  // null, true, false, integers: the same text
  }
}

std::string PyDumps(const Json& value) {
  std::string out;
  DumpLikePython(value, &out);
  return out;
}

// --- Time stamps -------------------------------------------------------------

struct UtcParts {
  std::chrono::year_month_day date;
  std::chrono::hh_mm_ss<std::chrono::microseconds> time;
};

UtcParts SplitUtc(WallClock::time_point t) {
  auto micros = std::chrono::floor<std::chrono::microseconds>(t);
  auto day = std::chrono::floor<std::chrono::days>(micros);
  return {std::chrono::year_month_day(day), std::chrono::hh_mm_ss(micros - day)};
}

// The orchestrator's get_timestamp(): microseconds not zero-padded.
std::string JobIdStamp(const UtcParts& p) {
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}.{}Z", static_cast<int>(p.date.year()),
                     static_cast<unsigned>(p.date.month()), static_cast<unsigned>(p.date.day()),
                     p.time.hours().count(), p.time.minutes().count(), p.time.seconds().count(),
                     p.time.subseconds().count());
}

// --- Param values ------------------------------------------------------------

// A param value and where it came from: "--param x", "<file>: params.x",
// "<file>: hysds-io.params[1].default".
struct Given {
  Json value;
  std::string origin;
};

Status ParamError(const std::string& origin, const std::string& name, const std::string& problem) {
  return Status::Invalid(fmt::format("{}: param '{}': {}", origin, name, problem));
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n\f\v"), e = s.find_last_not_of(" \t\r\n\f\v");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// run_type_conversion of hysds_commons, applied to a hysds-io value,
// default or dataset value in place; errors name `given->origin`.
Status ConvertByType(const HysdsIoParam& wire, Given* given) {
  const Json d = given->value;
  auto error = [&](const std::string& expected) {
    return ParamError(
        given->origin, wire.name,
        fmt::format("type {}: expected {}, got {}", wire.type, expected, DescribeJson(d)));
  };
  if (d.is_null()) return Status::OK();
  if (wire.optional && d.is_string() && Trim(d.get<std::string>()).empty()) {
    given->value = "";  // an unfilled optional param
    return Status::OK();
  }
  if (wire.type == "number") {
    if (d.is_number()) {
      given->value = d.get<double>();
      return Status::OK();
    }
    std::string text = d.is_string() ? Trim(d.get<std::string>()) : "";
    char* end = nullptr;
    double number = text.empty() || text.find_first_of("xX") != std::string::npos
                        ? NAN
                        : std::strtod(text.c_str(), &end);
    if (!std::isfinite(number) || end != text.c_str() + text.size()) return error("a number");
    given->value = number;
    return Status::OK();
  }
  if (wire.type == "boolean") {
    std::string lower = d.is_string() ? d.get<std::string>() : "";
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (d.is_boolean()) {
      given->value = d;
    } else if (lower == "true" || lower == "false") {
      given->value = lower == "true";
    } else {
      return error("\"true\" or \"false\"");
    }
    return Status::OK();
  }
  if (wire.type == "region" && d.is_string()) {  // an object's text stays text, as in HySDS
    Json parsed;
    if (!ParseJsonText(d.get<std::string>(), "", &parsed).ok()) return error("JSON text");
    given->value = std::move(parsed);
  }
  return Status::OK();
}

// process_xpath of hysds_commons for a `dataset_jpath:` param: the value at
// its path in one dataset document (null: nothing there).
Status DatasetValue(const HysdsIoParam& wire, const Json& dataset, const std::string& origin,
                    Given* out) {
  std::optional<Json> found;
  VERDI_RETURN_IF_ERROR(
      ResolveDatasetJpath(dataset, DatasetJpath(wire.from), &found)
          .WithPrefix(fmt::format("{}: param '{}': {}", origin, wire.name, wire.from)));
  *out = {found ? std::move(*found) : Json(nullptr), origin};
  return Status::OK();
}

// get_inputs, run_type_conversion and run_lambda of hysds_commons: the value
// a trigger rule or a web submission gives a hysds-io param.
Status RuleValue(const HysdsIoParam& wire, const std::map<std::string, Given>& given,
                 const SubmitRequest& request, Given* out) {
  auto finish = [&](Given* one) {
    if (one->value.is_null()) {
      if (!wire.optional)
        return ParamError(one->origin, wire.name,
                          fmt::format("Failed to find '{}' input from '{}'", wire.name, wire.from));
      one->value = "";
    }
    VERDI_RETURN_IF_ERROR(ConvertByType(wire, one));
    if (!wire.lambda || !request.run_lambda) return Status::OK();
    Json result;
    VERDI_RETURN_IF_ERROR(request.run_lambda(wire, one->value, &result)
                              .WithPrefix(fmt::format("{}: {}.lambda: param '{}'", request.io_file,
                                                      wire.path, wire.name)));
    one->value = std::move(result);
    return Status::OK();
  };

  bool from_dataset = wire.from.starts_with("dataset_jpath:") && request.dataset;
  if (from_dataset && !wire.value && request.dataset->is_array()) {
    out->value = Json::array();  // aggregated: the list of the values
    out->origin = request.dataset_file;
    for (size_t d = 0; d < request.dataset->size(); ++d) {
      Given one;
      VERDI_RETURN_IF_ERROR(DatasetValue(wire, (*request.dataset)[d],
                                         fmt::format("{}[{}]", request.dataset_file, d), &one));
      VERDI_RETURN_IF_ERROR(finish(&one));
      out->value.push_back(std::move(one.value));
    }
    return Status::OK();
  }

  auto caller = given.find(wire.name);
  if (wire.value) {
    *out = {*wire.value, fmt::format("{}: {}.value", request.io_file, wire.path)};
  } else if (from_dataset) {
    VERDI_RETURN_IF_ERROR(DatasetValue(wire, *request.dataset, request.dataset_file, out));
  } else if ((wire.from == "submitter" || wire.from == "passthrough") && caller != given.end()) {
    *out = caller->second;
  } else if (wire.from != "passthrough" && wire.default_value) {
    *out = {*wire.default_value, fmt::format("{}: {}.default", request.io_file, wire.path)};
  } else {
    *out = {nullptr, fmt::format("{}: {}", request.io_file, wire.path)};
  }
  return finish(out);
}

// fill_localize of hysds_commons: a URL, an object with a "url", or a list
// of them (flattened).
Status FillLocalize(const Json& v, const std::string& origin, const std::string& name, Json* urls) {
  if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i)
      VERDI_RETURN_IF_ERROR(FillLocalize(v[i], fmt::format("{}[{}]", origin, i), name, urls));
    return Status::OK();
  }
  if (v.is_string() && !v.get<std::string>().empty()) {
    urls->push_back({{"url", v}});
    return Status::OK();
  }
  if (v.is_object() && v.contains("url") && !v["url"].is_null()) {
    const Json& url = v["url"];
    if (!url.is_string() || url.get<std::string>().empty())
      return ParamError(origin + ".url", name,
                        "cannot be localized: expected a URL, got " + DescribeJson(url));
    if (v.contains("local_path") && !v["local_path"].is_null() && !v["local_path"].is_string())
      return ParamError(origin + ".local_path", name,
                        "expected a string, got " + DescribeJson(v["local_path"]));
    if (v.contains("cache") && !v["cache"].is_null() && !v["cache"].is_boolean())
      return ParamError(origin + ".cache", name,
                        "expected true or false, got " + DescribeJson(v["cache"]));
    urls->push_back(v);
    return Status::OK();
  }
  return ParamError(origin, name,
                    "cannot be localized: expected a URL, an object with a \"url\" or a list of "
                    "them, got " +
                        DescribeJson(v));
}

// get_command_line of hysds_commons: each positional value in single quotes.
std::string QuotePositional(const Json& value) {
  std::string text = value.is_string() ? value.get<std::string>() : PyDumps(value);
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\"'\"'") : std::string(1, c);
  return out + "'";
}

// The first recommended queue, under any of the spellings met in real files.
Status RecommendedQueue(const Json& spec_doc, const std::string& spec_file, std::string* queue) {
  JsonField root(&spec_doc, "job-spec");
  for (const char* key :
       {"recommended-queues", "recommended_queues", "required-queues", "required_queues"}) {
    std::vector<std::string> queues;
    VERDI_RETURN_IF_ERROR(root[key].GetOptionalStringList(&queues).WithPrefix(spec_file));
    if (!queues.empty()) {
      if (queues[0].empty()) return root[key].at(0).Error("a queue name").WithPrefix(spec_file);
      *queue = queues[0];
      return Status::OK();
    }
  }
  *queue = "celery";
  return Status::OK();
}

Status CheckRequest(const SubmitRequest& r) {
  if (r.task_id.empty()) return Status::Invalid("--task-id: expected a task id, got \"\"");
  if (r.priority < 0 || r.priority > 255)
    return Status::Invalid(fmt::format("--priority: expected 0 to 255, got {}", r.priority));
  for (auto [flag, limit] :
       {std::pair{"--soft-time-limit", r.soft_time_limit}, std::pair{"--time-limit", r.time_limit}})
    if (limit && *limit < 0)
      return Status::Invalid(fmt::format("{}: expected seconds, 0 or more, got {}", flag, *limit));
  if (r.container_image_url && !r.container_image_name)
    return Status::Invalid("--container-image-url: needs --container-image NAME");
  if (r.hard_time_limit_gap < 0)
    return Status::Invalid(fmt::format("--hard-time-limit-gap: expected seconds, 0 or more, got {}",
                                       r.hard_time_limit_gap));
  return Status::OK();
}

// What the params become (route_outputs): quoted positional words, the
// context entries (positional and context params) and the URLs to localize.
struct Routed {
  std::vector<std::string> positional;
  Json context = Json::object();
  Json localize_urls = Json::array();
};

Status RouteParams(const JobSpec& spec, const HysdsIo* io, const SubmitRequest& request,
                   Routed* out, std::vector<std::string>* notes) {
  // The caller's values: --params, then --param over them.
  std::map<std::string, Given> given;
  for (const auto& [key, value] : request.params.items())
    given[key] = {value, fmt::format("{}: params.{}", request.params_file, key)};
  for (const auto& [key, value] : request.param_strings) given[key] = {value, "--param " + key};
  std::set<std::string> known;
  for (const JobSpecParam& param : spec.params) known.insert(param.name);
  for (const auto& [key, value] : given)
    if (!known.contains(key))
      notes->push_back(
          fmt::format("{}: not a param of {}; ignored", value.origin, request.spec_file));

  // route_outputs, param by param in job-spec order.
  std::set<std::string> lambda_noted, reserved_noted;
  for (size_t i = 0; i < spec.params.size(); ++i) {
    const JobSpecParam& param = spec.params[i];
    std::string spec_origin = fmt::format("{}: job-spec.params[{}]", request.spec_file, i);
    const HysdsIoParam* wire = io != nullptr ? io->Find(param.name) : nullptr;
    if (wire != nullptr && wire->lambda && !(request.as_rule && request.run_lambda) &&
        lambda_noted.insert(param.name).second)
      notes->push_back(fmt::format(
          "{}: {}.lambda: param '{}': not run, as in HySDS's REST submission (--as-rule runs "
          "it); the value is used as it is",
          request.io_file, wire->path, param.name));
    Given value;
    if (request.as_rule && wire != nullptr) {
      VERDI_RETURN_IF_ERROR(RuleValue(*wire, given, request, &value));
    } else if (auto it = given.find(param.name); it != given.end()) {
      value = it->second;
    } else if (wire != nullptr && wire->value) {
      value = {*wire->value, fmt::format("{}: {}.value", request.io_file, wire->path)};
      VERDI_RETURN_IF_ERROR(ConvertByType(*wire, &value));
    } else if (wire != nullptr && wire->default_value) {
      value = {*wire->default_value, fmt::format("{}: {}.default", request.io_file, wire->path)};
      VERDI_RETURN_IF_ERROR(ConvertByType(*wire, &value));
    } else if (wire != nullptr && wire->optional) {
      continue;
    } else {
      std::string how = fmt::format("give --param {}=VALUE or a --params file with it", param.name);
      return ParamError(
          spec_origin, param.name,
          fmt::format("params must specify '{}': {}", param.name,
                      io != nullptr ? fmt::format("{} ({} has no value or default for it)", how,
                                                  request.io_file)
                                    : how + ", or a --hysds-io with a default"));
    }

    if (param.destination == JobSpecParam::Destination::kLocalize) {
      VERDI_RETURN_IF_ERROR(
          FillLocalize(value.value, value.origin, param.name, &out->localize_urls));
      continue;
    }
    if (param.destination == JobSpecParam::Destination::kPositional)
      out->positional.push_back(QuotePositional(value.value));
    if (kReservedKeys.contains(param.name) && reserved_noted.insert(param.name).second)
      notes->push_back(fmt::format("{}: param '{}': not stored in params: the key is reserved",
                                   spec_origin, param.name));
    out->context[param.name] = std::move(value.value);
  }
  return Status::OK();
}

}  // namespace

std::string PayloadHash(const Json& payload) {
  Json clean = payload;
  if (clean.is_object())
    for (const char* key : {"_disk_usage", "_sciflo_job_num", "_sciflo_wuid"}) clean.erase(key);
  std::string text = PyDumps(clean);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_md5(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::string DefaultJobType(std::string_view spec_path) {
  std::string_view base = spec_path.substr(spec_path.find_last_of('/') + 1);
  constexpr std::string_view kPrefix = "job-spec.json.";
  if (!base.starts_with(kPrefix) || base.size() == kPrefix.size()) return "";
  return fmt::format("job-{}:latest", base.substr(kPrefix.size()));
}

Status ResolveJob(const Json& spec_doc, const HysdsIo* io, const SubmitRequest& request,
                  WallClock::time_point now, Json* job, std::vector<std::string>* notes) {
  JobSpec spec;
  VERDI_RETURN_IF_ERROR(
      ParseJobSpec(JsonField(&spec_doc, "job-spec"), &spec).WithPrefix(request.spec_file));
  VERDI_RETURN_IF_ERROR(CheckRequest(request));

  std::string type = request.type.starts_with("job:") ? request.type.substr(4) : request.type;
  if (type.empty())
    return Status::Invalid("--type: expected a job type such as \"job-hello_world:develop\"");

  Json disk_usage = nullptr;
  if (request.disk_usage) {
    uint64_t bytes = 0;
    VERDI_RETURN_IF_ERROR(ParseDiskUsage(*request.disk_usage, "--disk-usage", &bytes));
    disk_usage = *request.disk_usage;
  } else if (spec.disk_usage_bytes) {
    disk_usage = spec_doc["disk_usage"];
  }

  std::string queue = request.queue;
  if (queue.empty()) VERDI_RETURN_IF_ERROR(RecommendedQueue(spec_doc, request.spec_file, &queue));

  Routed routed;
  VERDI_RETURN_IF_ERROR(RouteParams(spec, io, request, &routed, notes));
  std::string command = spec.command;
  for (const std::string& word : routed.positional) command += " " + word;

  Json container_spec = nullptr;
  if (request.container_image_name)
    container_spec = {
        {"id", *request.container_image_name},
        {"url", request.container_image_url ? Json(*request.container_image_url) : Json(nullptr)}};
  Json payload = {{"_command", command},
                  {"localize_urls", routed.localize_urls},
                  {"_disk_usage", disk_usage},
                  {"job_specification", spec_doc},
                  {"container_specification", container_spec}};
  for (auto& [key, value] : routed.context.items())
    if (!payload.contains(key)) payload[key] = value;
  if (request.tag && !payload.contains("tag")) payload["tag"] = *request.tag;

  // ensure_hard_time_limit_gap.
  std::optional<int64_t> soft =
      request.soft_time_limit ? request.soft_time_limit : spec.soft_time_limit;
  std::optional<int64_t> hard = request.time_limit ? request.time_limit : spec.time_limit;
  if (soft && (!hard || *hard <= *soft + request.hard_time_limit_gap))
    hard = *soft + request.hard_time_limit_gap;

  UtcParts utc = SplitUtc(now);
  std::string base = request.name.empty() ? type : request.name;
  for (size_t at = base.find(':'); at != std::string::npos; at = base.find(':', at + 2))
    base.replace(at, 1, "__");
  std::string job_id = fmt::format("{}-{}", base, JobIdStamp(utc));
  VERDI_RETURN_IF_ERROR(ValidateJobId(job_id, request.name.empty() ? "--type" : "--name"));

  Json out = {{"job_id", job_id},
              {"name", job_id},
              {"type", type},
              {"task_id", request.task_id},
              {"priority", request.priority},
              {"context", Json::object()},
              {"localize_urls", routed.localize_urls},
              {"container_mappings", spec.imported_worker_files},
              {"runtime_options", spec.runtime_options}};
  if (request.tag) out["tag"] = *request.tag;
  if (request.username) out["username"] = *request.username;
  if (request.container_image_name) out["container_image_name"] = *request.container_image_name;
  if (request.container_image_url) out["container_image_url"] = *request.container_image_url;
  out["job_info"] = {
      {"id", job_id},
      {"job_queue", queue},
      {"time_queued", IsoUtc(now)},
      {"index",
       fmt::format("job_status-{:04}.{:02}.{:02}", static_cast<int>(utc.date.year()),
                   static_cast<unsigned>(utc.date.month()), static_cast<unsigned>(utc.date.day()))},
      {"time_limit", hard ? Json(*hard) : Json(nullptr)},
      {"soft_time_limit", soft ? Json(*soft) : Json(nullptr)},
      {"payload_hash", PayloadHash(payload)},
      {"dedup", request.dedup.value_or(io != nullptr ? io->enable_dedup : true)},
      {"job_payload", {{"job_type", "job:" + type}, {"payload_task_id", request.task_id}}}};
  out["params"] = std::move(payload);

  Job check;
  if (Status st = ParseJob(out, &check); !st.ok())
    return Status::Invalid("the resolved job is not a valid run_job job: " + st.message());
  *job = std::move(out);
  return Status::OK();
}

}  // namespace verdi
