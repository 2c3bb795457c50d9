#include "jobspec/processors.h"

#include <array>
#include <utility>

namespace verdi {
namespace {

constexpr std::array<std::pair<std::string_view, BuiltinProcessor>, 13> kBuiltins = {{
    {"hysds.localize.localize_urls", BuiltinProcessor::kLocalizeUrls},
    {"hysds.localize.localize_urls_parallel", BuiltinProcessor::kLocalizeUrls},
    {"hysds.utils.localize_urls", BuiltinProcessor::kLocalizeUrls},
    {"hysds.utils.mark_localized_datasets", BuiltinProcessor::kMarkLocalizedDatasets},
    {"hysds.utils.validate_checksum_files", BuiltinProcessor::kValidateChecksumFiles},
    {"hysds.dataset_ingest_bulk.publish_datasets", BuiltinProcessor::kPublishDatasets},
    {"hysds.dataset_ingest_bulk.publish_datasets_parallel", BuiltinProcessor::kPublishDatasets},
    {"hysds.dataset_ingest.publish_datasets", BuiltinProcessor::kPublishDatasets},
    {"hysds.utils.publish_datasets", BuiltinProcessor::kPublishDatasets},
    {"hysds.triage.triage", BuiltinProcessor::kTriage},
    {"hysds.utils.triage", BuiltinProcessor::kTriage},
    // HySDS evaluates a name without a dot in hysds.utils, where these two live.
    {"mark_localized_datasets", BuiltinProcessor::kMarkLocalizedDatasets},
    {"validate_checksum_files", BuiltinProcessor::kValidateChecksumFiles},
}};

}  // namespace

const char* ProcessorLabel(ProcessorPhase phase) {
  return phase == ProcessorPhase::kPre ? "pre-processor" : "post-processor";
}

BuiltinProcessor FindBuiltinProcessor(std::string_view name) {
  for (const auto& [builtin_name, builtin] : kBuiltins)
    if (name == builtin_name) return builtin;
  return BuiltinProcessor::kNone;
}

const std::vector<std::string>& DefaultProcessors(ProcessorPhase phase) {
  static const std::vector<std::string> kPre = {"hysds.localize.localize_urls",
                                                "hysds.utils.mark_localized_datasets",
                                                "hysds.utils.validate_checksum_files"};
  static const std::vector<std::string> kPost = {"hysds.dataset_ingest_bulk.publish_datasets"};
  return phase == ProcessorPhase::kPre ? kPre : kPost;
}

Status ProcessorsOf(const Json& job, ProcessorPhase phase, bool deduped,
                    std::vector<std::string>* names) {
  const bool pre = phase == ProcessorPhase::kPre;
  JsonField spec(FindPath(job, {"params", "job_specification"}), "job.params.job_specification");
  bool disabled = false;
  VERDI_RETURN_IF_ERROR(
      spec[pre ? "disable_pre_builtins" : "disable_post_builtins"].GetOptionalBool(&disabled));
  std::vector<std::string> extra;
  VERDI_RETURN_IF_ERROR(spec[pre ? "pre" : "post"].GetOptionalStringList(&extra));
  names->clear();
  if (!disabled && !(deduped && !pre)) *names = DefaultProcessors(phase);
  names->insert(names->end(), extra.begin(), extra.end());
  return Status::OK();
}

}  // namespace verdi
