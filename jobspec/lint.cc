#include "jobspec/lint.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "jobspec/hysds_io.h"
#include "jobspec/job.h"
#include "jobspec/job_spec.h"
#include "jobspec/linter.h"
#include "jobspec/worker_config.h"

namespace verdi {
namespace {

using lint::Linter;
using lint::Member;

// When the walk found no error, the parser that verdi uses must accept the
// document too; if it does not, its one error is reported.
void CrossCheck(Linter& l, LintKind kind, const Json& doc) {
  if (l.errors() > 0) return;
  Status st;
  switch (kind) {
    case LintKind::kJobSpec: {
      JobSpec spec;
      st = ParseJobSpec(JsonField(&doc, "job-spec"), &spec);
      break;
    }
    case LintKind::kHysdsIo: {
      HysdsIo io;
      st = ParseHysdsIo(JsonField(&doc, "hysds-io"), &io);
      break;
    }
    case LintKind::kJob: {
      Job job;
      st = ParseJob(doc, &job);
      break;
    }
    case LintKind::kWorkerConfig: {
      WorkerConfig config;
      st = ParseWorkerConfig(doc, "worker-config", &config);
      break;
    }
    case LintKind::kDatasets:
      break;
  }
  if (!st.ok()) l.ErrorFromStatus(st);
}

std::vector<std::string> ParamNames(const Json& doc) {
  std::vector<std::string> names;
  const Json* params = Member(doc, "params");
  if (params == nullptr || !params->is_array()) return names;
  for (const Json& p : *params) {
    const Json* name = Member(p, "name");
    names.push_back(name != nullptr && name->is_string() ? name->get<std::string>() : "");
  }
  return names;
}

}  // namespace

std::string Finding::Line() const {
  return fmt::format("{}: {}: {}: {}", severity == kError ? "error" : "warning", file, path,
                     message);
}

std::string_view LintKindName(LintKind kind) {
  switch (kind) {
    case LintKind::kJobSpec:
      return "job-spec";
    case LintKind::kHysdsIo:
      return "hysds-io";
    case LintKind::kDatasets:
      return "datasets";
    case LintKind::kJob:
      return "job";
    case LintKind::kWorkerConfig:
      return "worker-config";
  }
  return "";
}

std::optional<LintKind> ParseLintKind(std::string_view name) {
  for (LintKind kind : {LintKind::kJobSpec, LintKind::kHysdsIo, LintKind::kDatasets, LintKind::kJob,
                        LintKind::kWorkerConfig})
    if (LintKindName(kind) == name) return kind;
  return std::nullopt;
}

std::optional<LintKind> GuessKindFromName(std::string_view path) {
  std::string_view base = path.substr(path.find_last_of('/') + 1);
  if (base.starts_with("job-spec.json.")) return LintKind::kJobSpec;
  if (base.starts_with("hysds-io.json.")) return LintKind::kHysdsIo;
  if (base.starts_with("datasets.json")) return LintKind::kDatasets;
  return std::nullopt;
}

std::optional<LintKind> GuessKindFromContent(const Json& doc) {
  if (!doc.is_object()) return std::nullopt;
  if (doc.contains("job_id") && doc.contains("type")) return LintKind::kJob;
  if (doc.contains("configs")) return LintKind::kWorkerConfig;
  return std::nullopt;
}

bool ParseForLint(std::string_view text, const std::string& file, std::string_view root, Json* doc,
                  std::vector<Finding>* out) {
  Status st = ParseJsonText(text, file, doc);
  if (!st.ok()) {
    std::string message = st.message();
    if (message.starts_with(file + ": ")) message = message.substr(file.size() + 2);
    out->push_back({Finding::kError, file, std::string(root), message});
    return false;
  }
  // Parsed again, to see each key: nlohmann keeps the last of repeated keys.
  struct Frame {
    bool array = false;
    size_t index = 0;
    std::string path, key;
    std::set<std::string> keys;
  };
  std::vector<Frame> stack;
  auto child_path = [&]() {
    if (stack.empty()) return std::string(root);
    const Frame& f = stack.back();
    return f.array ? Linter::Index(f.path, f.index) : Linter::Sub(f.path, f.key);
  };
  auto callback = [&](int, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start: {
        Frame frame;
        frame.array = event == Json::parse_event_t::array_start;
        frame.path = child_path();
        stack.push_back(std::move(frame));
        break;
      }
      case Json::parse_event_t::key: {
        Frame& top = stack.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second)
          out->push_back(
              {Finding::kWarning, file, Linter::Sub(top.path, top.key),
               fmt::format("repeated key `{}` (the last one wins, as in Python)", top.key)});
        break;
      }
      case Json::parse_event_t::value:
        if (!stack.empty() && stack.back().array) ++stack.back().index;
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        stack.pop_back();
        if (!stack.empty() && stack.back().array) ++stack.back().index;
        break;
    }
    return true;
  };
  Json again = Json::parse(text.begin(), text.end(), callback);
  return true;
}

void LintJobSpec(const Json& doc, const std::string& file, std::vector<Finding>* out) {
  Linter l(file, out);
  lint::LintJobSpecAt(l, doc, "job-spec");
  CrossCheck(l, LintKind::kJobSpec, doc);
}

void LintHysdsIo(const Json& doc, const std::string& file, std::vector<Finding>* out) {
  Linter l(file, out);
  lint::LintHysdsIoAt(l, doc, "hysds-io");
  CrossCheck(l, LintKind::kHysdsIo, doc);
}

void LintDatasets(const Json& doc, const std::string& file, std::vector<Finding>* out) {
  Linter l(file, out);
  lint::LintDatasetsAt(l, doc, "datasets");
}

void LintJob(const Json& doc, const std::string& file, std::vector<Finding>* out) {
  Linter l(file, out);
  lint::LintJobAt(l, doc, "job");
  CrossCheck(l, LintKind::kJob, doc);
}

void LintWorkerConfig(const Json& doc, const std::string& file, std::vector<Finding>* out) {
  Linter l(file, out);
  lint::LintWorkerConfigAt(l, doc, "worker-config");
  CrossCheck(l, LintKind::kWorkerConfig, doc);
}

void Lint(LintKind kind, const Json& doc, const std::string& file, std::vector<Finding>* out) {
  switch (kind) {
    case LintKind::kJobSpec:
      return LintJobSpec(doc, file, out);
    case LintKind::kHysdsIo:
      return LintHysdsIo(doc, file, out);
    case LintKind::kDatasets:
      return LintDatasets(doc, file, out);
    case LintKind::kJob:
      return LintJob(doc, file, out);
    case LintKind::kWorkerConfig:
      return LintWorkerConfig(doc, file, out);
  }
}

void LintSpecAgainstIo(const Json& spec, const std::string& spec_file, const Json& io,
                       const std::string& io_file, std::vector<Finding>* out) {
  std::vector<std::string> spec_names = ParamNames(spec), io_names = ParamNames(io);
  auto has = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  for (size_t i = 0; i < io_names.size(); ++i)
    if (!io_names[i].empty() && !has(spec_names, io_names[i]))
      out->push_back({Finding::kError, io_file, fmt::format("hysds-io.params[{}].name", i),
                      fmt::format("`{}` is not a param of {} (expected a job-spec param)",
                                  io_names[i], spec_file)});
  for (size_t i = 0; i < spec_names.size(); ++i)
    if (!spec_names[i].empty() && !has(io_names, spec_names[i]))
      out->push_back({Finding::kError, spec_file, fmt::format("job-spec.params[{}].name", i),
                      fmt::format("`{}` is not a param of {} (expected a hysds-io param)",
                                  spec_names[i], io_file)});
}

}  // namespace verdi
