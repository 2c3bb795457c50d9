// The job-spec (job-spec.json.<name>): what a job type runs and needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jobspec/json_field.h"

namespace verdi {

struct JobSpecParam {
  enum class Destination { kPositional, kLocalize, kContext };
  std::string name;
  Destination destination = Destination::kPositional;
};

/// A container image the job needs besides its own; loaded and described to
/// the job, never started by the worker.
struct DependencyImage {
  std::string container_image_name;
  std::optional<std::string> container_image_url;
  Json container_mappings = Json::object();
  Json runtime_options = Json::object();
};

struct JobSpec {
  std::string command;
  std::vector<JobSpecParam> params;
  std::optional<uint64_t> disk_usage_bytes;
  std::optional<int64_t> soft_time_limit;
  std::optional<int64_t> time_limit;
  /// host path -> container path, or [container path, "ro"|"rw"].
  Json imported_worker_files = Json::object();
  std::vector<DependencyImage> dependency_images;
  std::vector<std::string> recommended_queues;
  Json runtime_options = Json::object();
  std::vector<std::string> pre, post;
  bool disable_pre_builtins = false;
  bool disable_post_builtins = false;
};

/// Validates and reads a job-spec. `command` and `params` are required; every
/// other key is optional but must have its documented type when present.
/// Unknown keys are kept out of the struct but are not errors (specs carry
/// comments and tool-specific keys).
Status ParseJobSpec(const JsonField& field, JobSpec* spec);

}  // namespace verdi
